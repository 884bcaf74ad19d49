"""Fixture ladder: files on disk -> parsed documents -> a built site.

``write_project`` writes a throwaway project from a {path: text} mapping (dedented).
Golden files are refreshed with ``pytest --update-golden``.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from generator.cli import cli
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, RUN_SITE, SMALL_SITE


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden from the current output")


@pytest.fixture(autouse=True)
def _no_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture(autouse=True)
def _one_shot_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts as a one-shot command: a LiveServer made in-process by an earlier test
    must not leave this process keeping cache entries in memory (it changes what is written)."""
    from generator.core import files, watched

    monkeypatch.setattr(files, "_MEMORY", None)
    monkeypatch.setattr(files, "_LATER", None)  # nor cache writes waiting for a flush
    watched.stop_watching()  # nor walks taken from a watcher's log


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def write_project(tmp_path: Path) -> Callable[..., Path]:
    """Write files under tmp_path/project; return the project folder."""

    def write(files: dict[str, str | bytes], root: Path | None = None) -> Path:
        project = root or tmp_path / "project"
        for rel, body in files.items():
            path = project / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(body, bytes):
                path.write_bytes(body)
            else:
                path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
        (project / "content").mkdir(parents=True, exist_ok=True)
        return project

    return write


@pytest.fixture
def run_cli() -> Callable[..., Result]:
    """Invoke the CLI in-process; returns click's Result (exit_code, stdout, stderr)."""

    def run(*args: str | os.PathLike[str]) -> Result:
        return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)

    return run


@pytest.fixture
def small_site(write_project: Callable[..., Path]) -> Path:
    """A small project: home page, one checklist, one plain page."""
    return write_project(SMALL_SITE)


@pytest.fixture
def run_project(write_project: Callable[..., Path]) -> Path:
    """A project with one small checklist (4 items, 2 sign-off roles) and no runs yet."""
    return write_project(RUN_SITE)


@pytest.fixture
def started(run_project: Path, run_cli: Callable[..., Result]) -> tuple[Path, str]:
    """``run_project`` with one run started; returns (project, run id)."""
    result = run_cli("run", "start", "deploy", "--release", "v1.0", "--change", "CHG-1", "--env", "prod",
                     "--operator", "Olga", "--at", "2026-03-01T10:00:00Z", "-C", run_project)
    assert result.exit_code == 0, result.output
    return run_project, result.stdout.strip()


@pytest.fixture(scope="session")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A real signing key and self-signed certificate (made once per test session)."""
    from generator.report.keys import create_key

    return create_key(tmp_path_factory.mktemp("keys"), "Test Sealer")


@pytest.fixture(scope="session")
def local_tsa() -> Iterator[str]:
    """An RFC 3161 timestamp authority on 127.0.0.1 (pyHanko's dummy TSA behind HTTP)."""
    import datetime
    import http.server
    import threading

    from asn1crypto import keys as asn1_keys
    from asn1crypto import tsp
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # the dummy TSA is RSA-only
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(key, hashes.SHA256()))
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server API
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian Chromium driven by Playwright (skipped where it is missing; CI must have it).

    Module scope on purpose: Playwright's sync API keeps an event loop running while it is
    open, and pyHanko's signing (asyncio.run) refuses to start inside one.
    """
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            raise RuntimeError("CI must have Debian chromium at /usr/bin/chromium (scripts/test installs it)")
        pytest.skip("Debian chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
