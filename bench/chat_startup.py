"""How long `python -m skill chat` takes to show its prompt, and to launch the skill and quit.

Runs the simulator in a pseudo-terminal (as a person would, so it takes the interactive
path), with a fresh memory file, and times from process start to:
- the first `you> ` prompt;
- the answer to "open leg numbness guide" (the next prompt);
- the process's exit after Ctrl-D;
and the CPU time (user + system) the whole run took, which a busy machine inflates less
than the wall-clock figures. Prints the median of a few runs. `--root` measures another checkout (e.g. the base one).

    .venv/bin/python bench/chat_startup.py [--root /work/wt/base] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROMPT = b"you> "


def _read_until(fd: int, marker: bytes, seen: bytearray, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    start = len(seen)
    while marker not in seen[start:]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no {marker!r} within {timeout} s; got {bytes(seen[-300:])!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                raise TimeoutError(f"exited before {marker!r}: {bytes(seen[-300:])!r}")
            if not chunk:
                raise TimeoutError(f"exited before {marker!r}")
            seen += chunk


def one_run(root: Path, python: str) -> tuple[float, float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:  # the child: the simulator, in the checkout
            os.chdir(root)
            os.execv(python, [python, "-m", "skill", "chat", "--db", f"{tmp}/chat.sqlite3"])
        seen = bytearray()
        _read_until(fd, PROMPT, seen, 60)
        prompt = time.perf_counter() - started
        os.write(fd, b"open leg numbness guide\r")
        _read_until(fd, PROMPT, seen, 60)
        launched = time.perf_counter() - started
        os.write(fd, b"\x04")  # Ctrl-D
        while True:
            try:
                if not os.read(fd, 4096):
                    break
            except OSError:
                break
        _, _, usage = os.wait4(pid, 0)
        return (prompt, launched, time.perf_counter() - started,
                usage.ru_utime + usage.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).resolve().parents[1]
    parser.add_argument("--root", type=Path, default=here)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    python = str(args.root / ".venv" / "bin" / "python")
    runs = [one_run(args.root, python) for _ in range(args.runs)]
    labels = ("prompt shown", "launch answered", "launch + Ctrl-D, exited",
              "CPU time of that run")
    print(f"{args.root}: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for label, values in zip(labels, zip(*runs)):
        print(f"{label:26s} median {statistics.median(values) * 1000:7.0f} ms   "
              f"(min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f}, n={len(values)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
