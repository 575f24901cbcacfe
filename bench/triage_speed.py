"""How fast red-flag triage is: uncached assess, and the first call in a new process.

Triage runs on every slot value of every IntentRequest, before any other handler, so it
sits on the warm path of almost every request and on the cold start of every one-shot
request. This prints:
- uncached `triage.assess` over the texts of tests/data/triage_labelled.tsv: median and
  p99 in microseconds (the result cache is cleared before every call, as a new utterance
  would miss it), with no question hint (the words decide) and with `question=True` (how
  QuestionIntent slots are assessed);
- the same for `triage.assess_all([text], question=True)` as the safety handler calls it,
  on "does sitting cross legged pinch a nerve xN" with N varying, so the cache misses;
- the first call in a new process (what a Lambda container pays once, on the cold start
  of a one-shot request): the import, then the first `assess` of a few typical utterances,
  each in its own fresh interpreter, running from bytecode as a deployed bundle does;
  and, for reference, how long compiling every remaining pattern would take.
Numbers, not assertions: tests never time things.

Usage: python bench/triage_speed.py [--rounds N] [--fresh N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LABELLED = ROOT / "tests" / "data" / "triage_labelled.tsv"
CPU = False   # --cpu: time warm calls by this thread's CPU time (a busy machine's wall
              # clock counts other processes' turns too)

# First calls worth knowing: an information question (the usual one-shot), an ordinary
# story, a red flag, and the text `warm_up` uses.
FIRST_TEXTS = (
    "does sitting cross legged pinch a nerve",
    "my leg fell asleep after sitting on the floor for an hour",
    "my face is drooping",
    "warm up",
)

# Runs in a fresh interpreter: times the import, then one first call (milliseconds).
_CHILD = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
t0 = time.perf_counter()
from skill.dialog import triage
t1 = time.perf_counter()
c1 = time.process_time()
triage.assess(sys.argv[2], question=None)
t2 = time.perf_counter()
c2 = time.process_time()
if sys.argv[3] == "all":
    rules = triage._rules()
    for owner in rules.flags + tuple(rules.GROUPS):
        rules.regex(owner)
t3 = time.perf_counter()
print((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, (c2 - c1) * 1e3)
"""


def labelled_texts() -> list[str]:
    texts = []
    for line in LABELLED.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            texts.append(line.rpartition("\t")[0])
    return texts


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def uncached(rounds: int, question) -> list[float]:
    """Microseconds per uncached `assess` call, every labelled text, `rounds` times."""
    from skill.dialog import triage

    texts = labelled_texts()
    triage.warm_up()
    for text in texts:  # compile whatever these texts need: warm, not cold
        triage.assess(text, question=question)
    clear = triage._assess_cached.cache_clear
    clock = time.thread_time_ns if CPU else time.perf_counter_ns
    samples = []
    for _ in range(rounds):
        for text in texts:
            clear()
            start = clock()
            triage.assess(text, question=question)
            samples.append((clock() - start) / 1e3)
    return samples


def varied(count: int) -> list[float]:
    """Microseconds per `assess_all([text], question=True)`, a new text every call."""
    from skill.dialog import triage

    clock = time.thread_time_ns if CPU else time.perf_counter_ns
    samples = []
    for n in range(count):
        text = f"does sitting cross legged pinch a nerve x{n}"
        start = clock()
        triage.assess_all([text], question=True)
        samples.append((clock() - start) / 1e3)
    return samples[100:]  # the first ones fill the result cache


def first_call(text: str, runs: int, everything: bool = False) -> tuple[float, ...]:
    """Median (import ms, first-call ms, compile-the-rest ms, first-call CPU ms) over `runs`
    fresh processes. CPU time is the fairer figure on a busy machine."""
    results = []
    env = dict(os.environ)
    # From bytecode, as a deployed bundle runs (PYTHONDONTWRITEBYTECODE would time the
    # compiling of our sources into every import); the first, untimed run writes it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-c", _CHILD, str(ROOT), text, "-"],
                   capture_output=True, check=True, env=env)
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, str(ROOT), text, "all" if everything else "-"],
            capture_output=True, text=True, check=True, env=env).stdout
        results.append(tuple(map(float, out.split())))
    return tuple(statistics.median(r[k] for r in results) for k in range(4))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20,
                        help="passes over the labelled set (default 20)")
    parser.add_argument("--fresh", type=int, default=7,
                        help="fresh processes per first-call figure (default 7)")
    parser.add_argument("--cpu", action="store_true",
                        help="warm figures in thread CPU time instead of wall time")
    args = parser.parse_args(argv)
    global CPU
    CPU = args.cpu

    texts = labelled_texts()
    lengths = sorted(map(len, texts))
    print(f"uncached triage.assess over {len(texts)} labelled texts "
          f"(median length {lengths[len(lengths) // 2]} chars), {args.rounds} rounds:")
    for label, question in (("question=None", None), ("question=True", True)):
        samples = uncached(args.rounds, question)
        print(f"  {label:14} median {statistics.median(samples):7.1f} us"
              f"   p99 {percentile(samples, 0.99):7.1f} us")
    samples = varied(200 * args.rounds)
    print(f"assess_all(['does sitting cross legged pinch a nerve xN'], question=True):\n"
          f"  {'N varying':14} median {statistics.median(samples):7.1f} us"
          f"   p99 {percentile(samples, 0.99):7.1f} us")

    print(f"first call in a fresh process (median of {args.fresh}):")
    for text in FIRST_TEXTS:
        imported, first, _, cpu = first_call(text, args.fresh)
        print(f"  first assess {text!r:62} {first:6.2f} ms  (CPU {cpu:6.2f} ms;"
              f" import {imported:5.2f} ms)")
    _, first, rest, _ = first_call(FIRST_TEXTS[0], args.fresh, everything=True)
    print(f"  for reference, compiling every pattern after that: {rest:6.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
