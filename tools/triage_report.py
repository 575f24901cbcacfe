#!/usr/bin/env python3
"""How well triage does on the hand-labelled set (tests/data/triage_labelled.tsv).

Why: phrase lists drift; this puts a number on every change. It prints, per level, the
recall (labelled L and rated at least L -- rating an urgent text "emergency" errs toward
care and counts as found), exact agreement, the confusion matrix, the false-alarm rate
(ordinary texts rated urgent or emergency), and every miss.

With --nlu it also runs each text the way the skill hears it: through the simulator's
language understanding for each locale (simulator/nlu.py, built on the generated
interaction models), then triage over the slot values Alexa would send, then the skill's
preemption rule (`triage.preempting_level`): the level of guidance the user would hear.
A red flag that lands in an intent without a slot never reaches triage, and shows up here
as a miss.

usage: python tools/triage_report.py [--nlu] [--locale en-GB ...] [--file PATH]
tests/test_triage.py asserts the thresholds (100% recall for emergency and urgent).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from skill.dialog import triage  # noqa: E402

DATA = ROOT / "tests" / "data" / "triage_labelled.tsv"
LEVELS = triage.LEVELS
ALARM = (triage.URGENT, triage.EMERGENCY)


@dataclass
class Report:
    """Numbers for one way of rating the set (direct, or through one locale's NLU)."""

    name: str
    total: int = 0
    matrix: Counter = field(default_factory=Counter)  # (expected, got) -> count
    misses: list = field(default_factory=list)        # (text, expected, got, detail)

    def count(self, expected: str) -> int:
        return sum(n for (e, _), n in self.matrix.items() if e == expected)

    def recall(self, level: str) -> float:
        """Share of texts labelled `level` rated `level` or more serious."""
        n = self.count(level)
        found = sum(c for (e, g), c in self.matrix.items()
                    if e == level and triage.rank(g) >= triage.rank(level))
        return found / n if n else 1.0

    def exact(self, level: str) -> float:
        n = self.count(level)
        return self.matrix[(level, level)] / n if n else 1.0

    def false_alarm_rate(self) -> float:
        """Share of texts labelled "none" that would interrupt with urgent/emergency guidance."""
        n = self.count(triage.NONE)
        alarms = sum(self.matrix[(triage.NONE, g)] for g in ALARM)
        return alarms / n if n else 0.0

    def over_caution_rate(self) -> float:
        """Share of "none" texts rated routine (an appointment suggested; not an alarm)."""
        n = self.count(triage.NONE)
        return self.matrix[(triage.NONE, triage.ROUTINE)] / n if n else 0.0


def load(path: Path = DATA) -> list[tuple[str, str]]:
    """(text, expected level) rows; '#' lines are comments, a first line 'text<TAB>level'
    is a header."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        text, sep, level = line.rpartition("\t")
        level = level.strip()
        if number == 1 and level == "level":
            continue
        if not sep or level not in LEVELS:
            raise ValueError(f"{path.name}:{number}: expected 'text<TAB>level', got {line!r}")
        rows.append((text, level))
    return rows


def evaluate(rows, rate, name: str) -> Report:
    """Rate every row with `rate(text) -> (level, detail)` and tally."""
    report = Report(name)
    for text, expected in rows:
        got, detail = rate(text)
        report.total += 1
        report.matrix[(expected, got)] += 1
        if got != expected:
            report.misses.append((text, expected, got, detail))
    return report


def direct(text: str) -> tuple[str, str]:
    result = triage.assess(text)
    return result.level, ",".join(result.flags) or "-"


def through_nlu(locale: str):
    """A rater that hears `text` as the skill does in `locale` (intent + slot values)."""
    from simulator import nlu

    resolver = nlu.load_resolver(locale)

    def rate(text: str) -> tuple[str, str]:
        resolution = resolver.resolve(text)
        texts = []
        for slot in resolution.slots.values():
            texts += [t for t in (slot.get("value"), slot.get("resolved_name")) if t]
        topic = resolution.intent == "TopicIntent" and any(
            slot.get("resolved_id") for slot in resolution.slots.values())
        hint = triage.question_hint(resolution.intent)
        level = triage.preempting_level(triage.assess_all(texts, question=hint),
                                        resolution.intent, catalogue_topic=topic)
        return level, f"{resolution.intent} {texts}"
    return rate


def print_report(report: Report, show_misses: bool = True) -> None:
    print(f"== {report.name}: {report.total} texts")
    for level in reversed(LEVELS):
        if level == triage.NONE:
            continue
        print(f"  recall {level:9} {report.recall(level):6.1%}   exact {report.exact(level):6.1%}"
              f"   (n={report.count(level)})")
    print(f"  false alarms (none -> urgent/emergency) {report.false_alarm_rate():6.1%}"
          f"   none -> routine {report.over_caution_rate():6.1%}   (n={report.count('none')})")
    print("  confusion (rows expected, columns got): " + " ".join(f"{g[:5]:>6}" for g in LEVELS))
    for expected in LEVELS:
        print(f"    {expected:9} " + " ".join(f"{report.matrix[(expected, g)]:6d}" for g in LEVELS))
    if show_misses and report.misses:
        print("  misses:")
        for text, expected, got, detail in report.misses:
            marker = "!!" if triage.rank(got) < triage.rank(expected) else "  "
            print(f"   {marker} {expected:9} -> {got:9} {text!r}  [{detail}]")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=DATA)
    parser.add_argument("--nlu", action="store_true", help="also rate through the simulator NLU")
    parser.add_argument("--locale", action="append", help="locale(s) for --nlu (default: all)")
    parser.add_argument("--quiet", action="store_true", help="numbers only, no list of misses")
    args = parser.parse_args(argv)
    rows = load(args.file)
    print_report(evaluate(rows, direct, "triage.assess"), not args.quiet)
    if args.nlu:
        from skill.dialog import locales

        for locale in args.locale or locales.supported():
            print_report(evaluate(rows, through_nlu(locale), f"through the {locale} model"),
                         not args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
