#!/usr/bin/env python3
"""How well the red-flag detector (skill/dialog/suspicion.py) does on a blind triage set.

Why: the detector's thresholds (suspicion_bank.json "settings") trade caught warning signs
against confirming questions asked of ordinary stories; this puts numbers on both. For
each warning-sign story it checks whether the detector suspects the right sign (the
confirming question would then be about the right sign), any sign, and whether the phrase
rules (triage.assess) or the detector catch it between them. For each ordinary text it
counts a confirming question: the detector suspects a sign and the rules raised no alarm.

The set is a TSV with a header: text, expected (emergency | urgent | none), sign, kind.
Misses are printed only with --misses, and never for a holdout part (a file named set_b*):
its items are not to be read, only its figures.

usage: python tools/suspicion_report.py [--misses] [FILE ...]
       (default: tests/data/blind/triage/set_a.tsv and set_b.tsv when present)
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from skill.dialog import suspicion, triage  # noqa: E402

BLIND = ROOT / "tests" / "data" / "blind" / "triage"
# The blind sets' sign names -> the detector's flags.
SIGN_TO_FLAG = {"face": "face_drooping", "speech": "speech", "confusion": "confusion",
                "continence": "bladder_bowel", "mobility": "mobility",
                "severe_pain": "severe_pain", "persistent_numbness": "continuous_numbness"}
ALARM = (triage.URGENT, triage.EMERGENCY)


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle, delimiter="\t") if row.get("text")]


def report(path: Path, show_misses: bool) -> None:
    rows = load(path)
    holdout = path.name.startswith("set_b")
    signs, ordinary = Counter(), Counter()
    misses = []
    for row in rows:
        text, found = row["text"], suspicion.suspect(row["text"])
        rules = triage.assess(text).level in ALARM
        if row["expected"] != "none":
            flag = SIGN_TO_FLAG[row["sign"]]
            right = found is not None and found.flag == flag
            signs[(flag, "n")] += 1
            signs[(flag, "right")] += right
            signs[(flag, "any")] += found is not None
            signs[(flag, "rules")] += rules
            signs[(flag, "either")] += rules or right
            if not right:
                misses.append(("MISS", flag, found, text))
        else:
            kind = row["kind"]
            ordinary[(kind, "n")] += 1
            ordinary[(kind, "suspected")] += found is not None
            ordinary[(kind, "question")] += found is not None and not rules
            if found is not None:
                misses.append(("FALSE", kind, found, text))

    print(f"== {path.name} ({len(rows)} texts)")
    print(f"{'sign':22} {'n':>4} {'right':>6} {'any':>5} {'rules':>6} {'rules|right':>12}")
    totals = Counter()
    for flag in suspicion.FLAGS:
        values = [signs[(flag, k)] for k in ("n", "right", "any", "rules", "either")]
        for k, v in zip(("n", "right", "any", "rules", "either"), values):
            totals[k] += v
        print(f"{flag:22} {values[0]:4} {values[1]:6} {values[2]:5} {values[3]:6} {values[4]:12}")
    print(f"{'all signs':22} {totals['n']:4} {totals['right']:6} {totals['any']:5} "
          f"{totals['rules']:6} {totals['either']:12}")
    print(f"\n{'ordinary kind':22} {'n':>4} {'suspected':>10} {'question':>9}")
    all_n = all_s = all_q = 0
    for kind in sorted({k for k, _ in ordinary}):
        n, s, q = (ordinary[(kind, k)] for k in ("n", "suspected", "question"))
        all_n, all_s, all_q = all_n + n, all_s + s, all_q + q
        print(f"{kind:22} {n:4} {s:10} {q:9}")
    share = all_q / all_n if all_n else 0.0
    print(f"{'all ordinary':22} {all_n:4} {all_s:10} {all_q:9}   "
          f"(a confirming question for {share:.0%}; target at most 20%)")
    if show_misses and not holdout:
        print()
        for what, label, found, text in misses:
            got = f"{found.flag} {found.score:.2f}/{found.margin:+.3f}" if found else "-"
            print(f"{what:5} {label:20} {got:34} {text}")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--misses", action="store_true",
                        help="list misses and false suspicions (never for set_b)")
    args = parser.parse_args(argv)
    files = args.files or [p for p in (BLIND / "set_a.tsv", BLIND / "set_b.tsv") if p.exists()]
    if not files:
        print(f"no sets given and none in {BLIND}", file=sys.stderr)
        return 1
    for path in files:
        report(path, args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
