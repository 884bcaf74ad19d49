"""Runnable steps: an item's ```` ```sh {.run} ```` block, run from the console on request.

Only with ``serve --allow-exec`` on a loopback address. The command is the one frozen in the
run's snapshot when the run started (never text from the request), run by ``sh -c`` or
``bash -c`` in the project folder with no input and a timeout (its whole process group is
killed then). What ran and what came of it becomes one JSON evidence file (command and its
sha256, shell, start time, duration, exit code, stdout, stderr, each output capped), and the
item is marked done on exit 0, failed otherwise, with the exit code as the note.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from generator.core.errors import ConfigError
from generator.runs.operations import mark_item
from generator.runs.record import SnapshotItem, utc_now
from generator.runs.store import find_run, read_record

MAX_OUTPUT = 1024 * 1024
"""Bytes of stdout and of stderr kept in the evidence (the rest is cut, and says so)."""


@dataclass(frozen=True, slots=True)
class StepResult:
    """What running one step did."""

    exit_code: int | None
    """The command's exit code (None when it timed out)."""
    status: str
    """The status the item was marked with."""
    note: str
    """The note recorded with it."""


def run_step(project: Path, run_id: str, item_id: str, *, by: str, timeout: float) -> StepResult:
    """Run ``item_id``'s snapshotted command and record the outcome as a mark with evidence."""
    record = read_record(find_run(project, run_id))
    item = record.snapshot.item(item_id)
    if item is None or not item.command:
        raise ConfigError(f"item {item_id!r} of run {run_id!r} has no runnable step")
    if record.finished_at or record.sealed is not None:
        raise ConfigError(f"run {run_id!r} is closed")
    shell = shutil.which(item.shell)
    if shell is None:
        raise ConfigError(f"{item.shell} is not installed on this machine")
    started_at, started = utc_now(), time.monotonic()
    process = subprocess.Popen([shell, "-c", item.command], cwd=project, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
        code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        code = None
    duration = round(time.monotonic() - started, 3)
    evidence = _evidence(item, started_at, duration, code, out, err, timeout)
    note = (f"ran its step (sha256 {str(evidence['command_sha256'])[:12]}…): "
            + (f"exit code {code}" if code is not None else f"timed out after {timeout:g} s"))
    status = "done" if code == 0 else "failed"
    with tempfile.TemporaryDirectory(prefix="launchbook-step-") as scratch:
        path = Path(scratch) / f"step-{item.id}-{started_at.replace(':', '')}.json"
        path.write_text(json.dumps(evidence, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        mark_item(project, run_id, item.id, status=status, by=by, note=note, evidence=(str(path),), base=project)
    return StepResult(code, status, note)


def _evidence(item: SnapshotItem, started_at: str, duration: float, code: int | None, out: bytes, err: bytes,
              timeout: float) -> dict[str, object]:
    return {
        "item": item.id, "shell": item.shell, "command": item.command,
        "command_sha256": hashlib.sha256(item.command.encode("utf-8")).hexdigest(),
        "cwd": "project folder", "started_at": started_at, "duration_seconds": duration,
        "exit_code": code, "timed_out": code is None, "timeout_seconds": timeout,
        "stdout": _text(out), "stderr": _text(err),
    }


def _text(data: bytes) -> str:
    cut = data[:MAX_OUTPUT].decode("utf-8", "replace")
    return cut + (f"\n[… {len(data) - MAX_OUTPUT} more bytes cut]" if len(data) > MAX_OUTPUT else "")
