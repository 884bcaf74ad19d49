"""Shared test helpers and sample sources (fixtures live in conftest.py)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from generator.model import Checklist, Document
from generator.sources.checklist import parse_document

ROOT = Path(__file__).resolve().parents[1]
CONTENT = ROOT / "content"
SEEDS = ROOT.parent / "shared" / "seeds"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# Demo content file -> the seed it was made from (bodies are the seeds, byte for byte).
DEMO_SEEDS = {
    "launches/planner-app.md": "000_c7260730ec80a96a.txt",
    "launches/dreamcatcher.md": "001_e739ddfcdb5f932c.txt",
    "launches/momentverse.md": "002_0abd9bc7c730e74f.txt",
    "platform/go-live-readiness.md": "003_2ab096fbb3223d3f.txt",
    "platform/sv-sdk.md": "004_c7f8187d53b4e032.txt",
}


def search_parts(out: Path) -> dict[str, Any]:
    """Every file of a built site's search index (``assets/search/``): its name -> its data."""
    parts: dict[str, Any] = {}
    for path in sorted((out / "assets" / "search").rglob("*.js")):
        text = path.read_text(encoding="utf-8")
        head, tail = "window.LAUNCHBOOK_SEARCH_PART(", ");\n"
        assert text.startswith(head) and text.endswith(tail), path
        name, data = json.loads("[" + text[len(head):-len(tail)] + "]")
        assert f"assets/search/{name}.js" == path.relative_to(out).as_posix()
        parts[name] = data
    return parts


def search_fragments(out: Path) -> dict[str, list[Any]]:
    """Each page's search fragment (``[kind, title, url, paths, entries]``) by its URL."""
    return {data[2]: data for name, data in search_parts(out).items() if name.startswith("doc/")}


def parse(text: str, name: str = "doc.md") -> Document:
    """Parse dedented Markdown text as if it were content/<name>."""
    return parse_document(textwrap.dedent(text).lstrip("\n").encode("utf-8"), f"content/{name}", name)


def parse_checklist(text: str, name: str = "doc.md") -> Checklist:
    document = parse(text, name)
    assert isinstance(document, Checklist), "expected a checklist"
    return document


SMALL_SITE = {
    "content/site.yml": """
        title: Ops runbooks
        base_url: https://runbooks.example.com/
    """,
    "content/index.md": """
        ---
        title: Welcome
        ---
        Start with the [deploy checklist](ops/deploy.md).
    """,
    "content/ops/deploy.md": """
        ---
        title: Deploy the API
        owner: SRE
        tags: [api, deploy]
        ---
        # Deploy the API

        ## Before

        - [ ] Announce the window in #ops
        - [x] Freeze merges {#freeze}
        - [~] Notify partners (if applicable)

        ## During

        1. [ ] Run `make deploy`
           - [ ] Watch the error rate
        2. [ ] Smoke test <script>alert(1)</script>

        ## Sign-off

        - [ ] **Release Manager:** ________ Date: ____
    """,
    "content/guides/style.md": """
        # Style guide

        Plain page, no items. See [deploy](../ops/deploy.md#freeze).

        ```python
        print("hi")
        ```
    """,
}


RUN_SITE = {
    "content/deploy.md": """
        ---
        title: Deploy the API
        id: deploy
        ---
        # Deploy the API

        ## Before

        - [ ] Announce the window {#announce}
        - [ ] Freeze merges {#freeze}
        - [ ] Notify partners (optional) {#partners}

        ## During

        - [ ] Run the migration {#migrate}

        ## Sign-off

        | Role | Name | Signature | Date |
        |------|------|-----------|------|
        | Release Manager | | | |
        | Security | | | |
    """,
}


def edit_text(path: Path, old: str, new: str) -> None:
    """Replace text in a file, insisting that it was there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def build_demo(out: Path) -> Path:
    """The demo (this checkout's content/) built into ``out`` by the CLI, as users build it."""
    from click.testing import CliRunner

    from generator.cli.app import cli

    result = CliRunner().invoke(cli, ["-q", "build", "-C", str(ROOT), "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


@contextlib.contextmanager
def served_folder(folder: Path) -> Iterator[str]:
    """``folder`` over HTTP on a free local port (quietly); yields its base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def copy_keeping_cache(source: Path, target: Path) -> Path:
    """Copy a project as a move would leave it: its cache still its own. A plain copy's cache is
    not used (its ``.made-here`` names the original folder's inode; see generator/sources/cachedir.py)."""
    import os
    import shutil

    from generator.core.files import store_cache_bytes
    from generator.sources.cachedir import MADE_HERE

    shutil.copytree(source, target, symlinks=True)
    for marker in target.glob(f".launchbook-cache/*/{MADE_HERE}"):
        info = os.lstat(marker.parent)
        store_cache_bytes(marker, f"{info.st_dev}:{info.st_ino}".encode("ascii"))
    return target
