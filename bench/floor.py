"""The markdown-it-py floor: render every Markdown file of a folder and nothing else.

    python3 bench/floor.py CONTENT_DIR [WORKERS]

``MarkdownIt("commonmark").enable("table").render()`` of each ``*.md`` file's text, on a
multiprocessing pool of WORKERS processes (default: every core), files handed out in
chunks. No front matter handling, no templates, no writing: the least a Python
generator built on markdown-it-py must spend on this corpus. Prints files, bytes of
Markdown and bytes of HTML, so the work cannot be skipped.
"""

from __future__ import annotations

import os
import sys
from multiprocessing import Pool
from pathlib import Path

from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark").enable("table")


def render(path: str) -> tuple[int, int]:
    text = Path(path).read_text(encoding="utf-8")
    return len(text), len(_md.render(text))


def main() -> None:
    content = Path(sys.argv[1])
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count() or 1
    files = sorted(str(p) for p in content.rglob("*.md"))
    with Pool(workers) as pool:
        sizes = pool.map(render, files, chunksize=max(1, len(files) // (workers * 8)))
    print(f"{len(files)} files, {sum(s for s, _ in sizes)} bytes of Markdown -> "
          f"{sum(h for _, h in sizes)} bytes of HTML on {workers} workers")


if __name__ == "__main__":
    main()
