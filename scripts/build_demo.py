"""Build the demo: site plus signed go-live reports, into output/.

The demo's run records in content/runs/ stay untouched: they are copied into a scratch
project (.launchbook/demo-project/, git-ignored), where the finished runs are closed
and sealed with a local signing key (.launchbook/demo-keys/, git-ignored, created on first
use and labelled as a local demo key). The site is then built from that project.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from generator.archive.checkpoint import make_checkpoint
from generator.archive.seal import close_run
from generator.cli.app import audit_hook as _audit
from generator.core.errors import LaunchbookError
from generator.report.keys import create_key
from generator.site.build import build_site

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".launchbook"
KEYS = WORK / "demo-keys"  # never the default place of `keys new`: run close would pick it up
PROJECT = WORK / "demo-project"
# Run id -> close with --force? (in-progress runs stay open)
TO_CLOSE = {
    "20260203-0900-v1-8-0": False,
    "20260310-0830-v1-9-0": True,  # a required item was skipped: closed with exceptions
    "20260402-1700-v1-2-0": True,
    "20260414-0730-v0-9-0": True,
    "20260520-0600-v3-0-0": False,
}
CLOSED_AT = {
    "20260203-0900-v1-8-0": "2026-02-03T12:00:00Z",
    "20260310-0830-v1-9-0": "2026-03-10T10:30:00Z",
    "20260402-1700-v1-2-0": "2026-04-02T18:00:00Z",
    "20260414-0730-v0-9-0": "2026-04-14T08:10:00Z",
    "20260520-0600-v3-0-0": "2026-05-20T09:00:00Z",
}


DEMO_NAME = "launchbook LOCAL DEMO key (not for production)"
OLD_KEYS = WORK / "keys"  # where earlier versions kept the demo key: the default place of `keys new`


def move_old_demo_key() -> None:
    """An older demo left its key in .launchbook/keys/, where `run close` now looks for the user's
    own key: move it (only a key whose certificate says LOCAL DEMO) to .launchbook/demo-keys/."""
    pem, p12 = OLD_KEYS / "launchbook-signing.pem", OLD_KEYS / "launchbook-signing.p12"
    if not pem.is_file() or not p12.is_file() or (KEYS / p12.name).exists():
        return
    from cryptography import x509

    if "LOCAL DEMO" not in x509.load_pem_x509_certificate(pem.read_bytes()).subject.rfc4514_string():
        return
    KEYS.mkdir(parents=True, exist_ok=True)
    p12.rename(KEYS / p12.name)
    pem.rename(KEYS / pem.name)
    print(f"Moved the local demo key from {OLD_KEYS} to {KEYS}")


def main(argv: list[str]) -> None:
    move_old_demo_key()
    key = KEYS / "launchbook-signing.p12"
    if not key.exists():
        made = create_key(KEYS, DEMO_NAME)
        print(f"Created a local demo signing key: {made.pkcs12}")
    shutil.rmtree(PROJECT, ignore_errors=True)
    shutil.copytree(ROOT / "content", PROJECT / "content")
    with open(PROJECT / "content/site.yml", "a", encoding="utf-8") as config:
        config.write("# Added by scripts/build_demo.py: trust the local demo key for this demo only.\n")
        config.write("trust:\n  - ../../demo-keys/launchbook-signing.pem\n")
    for run_id, force in TO_CLOSE.items():
        started = time.perf_counter()
        sealed = close_run(PROJECT, run_id, key=str(key), force=force, at=CLOSED_AT[run_id])
        print(f"Sealed {run_id}: {sealed.summary.outcome.value.upper()}, {sealed.pages} pages "
              f"(render {sealed.render_seconds:.1f} s, sign {sealed.sign_seconds:.2f} s, "
              f"total {time.perf_counter() - started:.1f} s)")
    checkpoint, head = make_checkpoint(PROJECT, str(key))
    print(f"Signed checkpoint of the ledger ({head.size} entries): {checkpoint.name}")
    result = build_site(PROJECT, ROOT / "output", clean="--clean" in argv, audit=_audit)
    print(f"Built {result.pages} pages, {result.runs} runs into {result.output} in {result.seconds:.2f} s "
          f"({len(result.warnings)} warnings).")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except LaunchbookError as exc:  # one clear line, as the CLI prints it
        sys.exit(f"Error: {exc.format_message()}")
