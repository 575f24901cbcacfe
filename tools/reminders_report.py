#!/usr/bin/env python3
"""How many blind reminder phrasings reach the right reminder intent through the simulator NLU.

usage: python tools/reminders_report.py [FILE.tsv ...]
(default: tests/data/blind/jobs_a.tsv and jobs_b.tsv, else /work/blind/utterances/).
Prints counts per label only -- never the phrasings -- so it is safe on a held-out part.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator import nlu  # noqa: E402

WANTED = {"reminder_set": "SetMovementRemindersIntent",
          "reminder_list": "ListMovementRemindersIntent",
          "reminder_stop": "StopMovementRemindersIntent"}


def default_files() -> list[Path]:
    for base in (ROOT / "tests" / "data" / "blind", Path("/work/blind/utterances")):
        files = [base / "jobs_a.tsv", base / "jobs_b.tsv"]
        if all(f.exists() for f in files):
            return files
    return []


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or default_files()
    resolvers = {}
    for path in files:
        hits, totals = Counter(), Counter()
        for line in path.read_text("utf-8").splitlines()[1:]:
            text, label, register = line.split("\t")
            if label not in WANTED:
                continue
            locale = {"british": "en-GB", "australian": "en-AU", "indian": "en-IN"}.get(
                register, "en-US")
            resolver = resolvers.setdefault(locale, nlu.load_resolver(locale))
            totals[label] += 1
            hits[label] += resolver.resolve(text).intent == WANTED[label]
        parts = [f"{label} {hits[label]}/{totals[label]}" for label in WANTED]
        total = sum(totals.values())
        share = f"{100 * sum(hits.values()) / total:.0f}%" if total else "n/a"
        print(f"{path.name}: {share} ({', '.join(parts)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
