"""How the benchmark times a command: wall clock, CPU of the process tree, peak memory.

Every figure in the table comes from :func:`measure`, a subprocess under GNU ``time``
(``/usr/bin/time -f "%U %S %M"``): wall from this process's clock, CPU as user + system
of the whole tree, and peak RSS as GNU time reports it (the largest single process, not
the sum over workers). With ``tree=True`` a sampler also reads the summed proportional set
size (PSS, shared pages split between sharers) of the command and all its descendants
every 0.2 s, which is what a multi-process build really occupies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIME = shutil.which("time") or "/usr/bin/time"
SAMPLE_EVERY = 0.2


PYCACHE = ROOT / "bench" / ".work" / "pycache"
"""Where measured commands keep launchbook's compiled modules (outside the source tree)."""


def bench_env() -> dict[str, str]:
    """The environment of every measured command: this checkout's ``generator`` first on the path,
    its modules compiled once (``PYTHONDONTWRITEBYTECODE`` dropped, the bytecode kept under
    :data:`PYCACHE`), as after ``pip install``, which compiles them: a machine that sets
    ``PYTHONDONTWRITEBYTECODE`` would otherwise charge every command ~0.3 s of compiling."""
    path = os.environ.get("PYTHONPATH", "")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else ""), "PYTHONPYCACHEPREFIX": str(PYCACHE)}


def compile_launchbook() -> None:
    """Compile launchbook's modules for :func:`bench_env` before anything is timed."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "generator")], env=bench_env(), check=True,
                   stdout=subprocess.DEVNULL)


def launchbook_command(*args: str) -> list[str]:
    """``python3 -m generator ARGS`` with the interpreter running the benchmark."""
    return [sys.executable, "-m", "generator", *args]


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        parent = int(stat.rsplit(b")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_pss_mb(root: int) -> float:
    """Summed PSS of ``root`` and its descendants, in MB."""
    tree, total, todo = _children(), 0, [root]
    while todo:
        pid = todo.pop()
        total += _pss_kb(pid)
        todo.extend(tree.get(pid, ()))
    return total / 1024


class TreeSampler:
    """Peak summed PSS of a process tree, sampled in a thread until ``stop()``."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_mb = pid, 0.0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.done.wait(SAMPLE_EVERY):
            self.peak_mb = max(self.peak_mb, tree_pss_mb(self.pid))

    def stop(self) -> float:
        self.done.set()
        self.thread.join()
        return self.peak_mb


@dataclass(frozen=True, slots=True)
class Timing:
    """One command's cost."""

    wall: float
    """Seconds of wall clock, from start to exit."""
    cpu: float
    """User + system seconds of the command and every child it waited for."""
    rss_mb: float
    """Peak resident set of the largest single process (GNU time's %M), MB."""
    tree_pss_mb: float | None
    """Peak summed PSS of the whole process tree (sampled), MB; None unless asked for."""
    stdout: str
    """What the command printed."""

    def data(self) -> dict[str, float]:
        figures = {"wall": self.wall, "cpu": self.cpu, "rss_mb": self.rss_mb}
        return figures if self.tree_pss_mb is None else {**figures, "tree_pss_mb": self.tree_pss_mb}


def measure(command: list[str], cwd: Path | None = None, *, tree: bool = False,
            timeout: float | None = None) -> Timing:
    """Wall, CPU (user+sys of the process tree) and peak RSS of one command (plus tree PSS if asked).

    Raises RuntimeError (with the end of stderr) when the command fails or outlives ``timeout``.
    """
    timed = Path(TIME).exists()
    with tempfile.NamedTemporaryFile("r") as report:
        wrapped = [TIME, "-o", report.name, "-f", "%U %S %M", *command] if timed else command
        started = time.perf_counter()
        process = subprocess.Popen(wrapped, cwd=cwd, env=bench_env(), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        sampler = TreeSampler(process.pid) if tree else None
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise RuntimeError(f"{' '.join(command[:5])} … took longer than {timeout:.0f} s") from None
        finally:
            peak = sampler.stop() if sampler else None
        wall = time.perf_counter() - started
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:5])} … failed ({process.returncode}): {err[-2000:]}")
        fields = report.read().split() if timed else []
    user, system, rss = (float(fields[-3]), float(fields[-2]), float(fields[-1])) if len(fields) >= 3 else (0, 0, 0)
    return Timing(wall, user + system, rss / 1024, peak, out)
