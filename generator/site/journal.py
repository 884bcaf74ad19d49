"""Where a build's control entries live, and the journal that makes publishing redoable.

Staging folders, retired outputs, the swap lock and the journal sit beside the output
(``.<output>.*``), or inside it (``<output>/.launchbook.*``) when the output folder is a
mount point (a Docker volume), which cannot be renamed. The journal (``.<tag>.swap.json``)
is written atomically before the first change to the output and at each phase, so the
next build can complete a publish a killed build left half done.
"""

from __future__ import annotations

import json
import os
import re
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.core.files import atomic_write

INSIDE_TAG = "launchbook"
"""Name tag of the control entries inside a mounted output folder (``.launchbook.*``)."""
KILL_HOOK = "LAUNCHBOOK_TEST_KILL_AT"
"""Test hook: ``between-renames`` (whole swap) or ``between-replaces`` (publish in place)
makes the build SIGKILL itself in the middle of publishing."""


@dataclass(frozen=True, slots=True)
class Area:
    """Where staging folders, retired outputs, the journal and the swap lock live."""

    folder: Path
    tag: str
    inside: bool

    def name(self, kind: str) -> str:
        return f".{self.tag}.{kind}"

    @property
    def journal(self) -> Path:
        return self.folder / self.name("swap.json")

    @property
    def skip(self) -> str:
        """Prefix of the control entries to leave alone in the output ("" beside it)."""
        return f".{self.tag}." if self.inside else ""

    @property
    def output(self) -> Path:
        return self.folder if self.inside else self.folder / self.tag


def _mount_points() -> set[str]:
    try:
        lines = Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return set()
    points = set()
    for line in lines:
        fields = line.split(" ")
        if len(fields) > 4:
            points.add(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4]))  # \040: space
    return points


def area_of(output: Path) -> Area:
    """Beside the output, or inside it when it is a mount point (a bind mount included)."""
    if output.is_dir() and not output.is_symlink() and (os.path.ismount(output) or str(output) in _mount_points()):
        return Area(output, INSIDE_TAG, True)
    return Area(output.parent, output.name, False)


def save_journal(area: Area, plan: dict[str, Any]) -> None:
    atomic_write(area.journal, (json.dumps(plan, indent=1, sort_keys=True) + "\n").encode("utf-8"))


def kill_hook(point: str) -> None:
    if os.environ.get(KILL_HOOK) == point:
        os.kill(os.getpid(), signal.SIGKILL)
