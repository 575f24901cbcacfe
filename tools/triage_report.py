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

With --blind it plays the blind sets instead (tests/data/blind/triage/set_a.tsv, set_b.tsv,
set_c.tsv: text, expected, sign, kind, register; written by people who never saw our data;
--set set_c for one of them) and
prints, per set and per sign, what the user would hear: "Call 911 now" (emergency),
same-day care (urgent), a confirming question, the answer about a sign, or nothing. By
default straight into the skill's decision (`safety.decide` on the words alone); with
--nlu-sim through the simulator's NLU, with --nlu-semantic PYTHON through
/work/shared/tools/semantic_nlu.py run by that interpreter. --root DIR measures another
checkout (e.g. /work/wt/base for first-contact figures). Set B is the holdout: print its
figures, never its misses (--misses prints the tuning sets' only: A and C).

usage: python tools/triage_report.py [--nlu] [--locale en-GB ...] [--file PATH]
       python tools/triage_report.py --blind [--root DIR] [--nlu-sim] [--nlu-semantic PY]
                                     [--misses] [--set set_c]
tests/test_triage.py asserts the thresholds (100% recall for emergency and urgent).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# --root DIR: measure another checkout's triage (first-contact figures on the old code).
CODE_ROOT = (Path(sys.argv[sys.argv.index("--root") + 1]).resolve()
             if "--root" in sys.argv[:-1] else ROOT)
if str(CODE_ROOT) not in sys.path:
    sys.path.insert(0, str(CODE_ROOT))

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


# ------------------------------------------------------------------ the blind sets

BLIND = ROOT / "tests" / "data" / "blind" / "triage"
HOLDOUT = "set_b.tsv"
FREE_TEXT_INTENT = None   # straight in: the words alone decide (no carrier, no intent hint)


def load_blind(path: Path) -> list[dict]:
    """Rows of a blind set: text, expected (level), sign, kind, register."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"))) for line in lines[1:] if line.strip()]
    for row in rows:
        if row["expected"] not in LEVELS:
            raise ValueError(f"{path.name}: bad level in {row!r}")
    return rows


def decide(texts: list[str], intent: str | None, topic: bool = False) -> tuple[str, str]:
    """(what the user hears, the sign behind it) for slot `texts` of `intent`.

    Outcomes: emergency, urgent, routine, answer (the passage about a sign), confirm (one
    yes/no question about a sign), fallback (no words reached the skill), none."""
    if intent == "AMAZON.FallbackIntent":
        return "fallback", "-"
    try:
        from skill.dialog import safety
    except ImportError:        # the old code: triage and the preemption rule only
        result = triage.assess_all(texts, question=triage.question_hint(intent))
        level = triage.preempting_level(result, intent, catalogue_topic=topic)
        return level, result.primary if level != triage.NONE else "-"
    decision = safety.decide(texts, intent, catalogue_topic=topic)
    return decision.action, decision.flag or "-"


def simulator_rater(locale: str = "en-US"):
    from simulator import nlu

    resolver = nlu.load_resolver(locale)

    def rate(text: str) -> tuple[str, str, str]:
        resolution = resolver.resolve(text)
        texts = [t for slot in resolution.slots.values()
                 for t in (slot.get("value"), slot.get("resolved_name")) if t]
        topic = resolution.intent == "TopicIntent" and any(
            slot.get("resolved_id") for slot in resolution.slots.values())
        return (*decide(texts, resolution.intent, topic), resolution.intent)
    return rate


def semantic_rater(python: str, texts: list[str], locale: str = "en-US"):
    """Resolve every text with semantic_nlu.py in one batch (the model loads once)."""
    import json
    import subprocess
    import tempfile

    tool = Path("/work/shared/tools/semantic_nlu.py")
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as batch:
        for text in texts:
            batch.write(json.dumps({"text": text}) + "\n")
    out = subprocess.run([python, str(tool), "--model",
                          str(CODE_ROOT / "skill-package" / "interactionModels" / "custom" / f"{locale}.json"),
                          "--file", batch.name], capture_output=True, text=True, check=True)
    resolved = {}
    for line in out.stdout.splitlines():
        item = json.loads(line)
        resolved[item["utterance"]] = item

    def rate(text: str) -> tuple[str, str, str]:
        item = resolved[text]
        slots = item.get("slots", {})
        words = [t for slot in slots.values() for t in (slot.get("value"), slot.get("resolved"))
                 if t]
        topic = item["intent"] == "TopicIntent" and any(s.get("id") for s in slots.values())
        return (*decide(words, item["intent"], topic), item["intent"])
    return rate


def direct_rater(text: str) -> tuple[str, str, str]:
    return (*decide([text], FREE_TEXT_INTENT), "-")


def blind_report(name: str, rows: list[dict], rate, show_misses: bool) -> dict:
    """Print one set's figures per sign; return the headline counts."""
    outcomes = [(row, *rate(row["text"])) for row in rows]
    alarm = ("emergency", "urgent")
    print(f"== {name}: {len(rows)} texts")
    print(f"  {'sign':22} {'n':>3} {'911':>4} {'today':>5} {'confirm':>7} {'answer':>6}"
          f" {'fallbk':>6} {'other':>5}")
    signs = sorted({row["sign"] for row in rows if row["expected"] != "none"})
    for sign in signs:
        got = [o for r, o, *_ in outcomes if r["sign"] == sign and r["expected"] != "none"]
        _sign_line(sign, got)
    for kind in sorted({row["kind"] for row in rows if row["expected"] == "none"}):
        got = [o for r, o, *_ in outcomes if r["kind"] == kind and r["expected"] == "none"]
        _sign_line("none/" + kind, got)
    heads = {}
    for level, good in (("emergency", ("emergency",)), ("urgent", alarm)):
        mine = [o for r, o, *_ in outcomes if r["expected"] == level]
        heads[level] = (sum(o in good for o in mine), len(mine))
        confirmed = sum(o == "confirm" for o in mine)
        print(f"  {level:9} reached {'Call 911 now' if level == 'emergency' else 'same-day care'}"
              f" directly: {heads[level][0]}/{len(mine)}   (+{confirmed} after a confirming"
              f" question answered yes)")
    ordinary = [(r, o) for r, o, *_ in outcomes if r["expected"] == "none"]
    alarms = sum(o in alarm for _, o in ordinary)
    confirms = sum(o == "confirm" for _, o in ordinary)
    about = [o for r, o in ordinary if r["kind"] == "question_about_sign"]
    heads["none_alarm"] = (alarms, len(ordinary))
    heads["none_confirm"] = (confirms, len(ordinary))
    print(f"  none      alarmed: {alarms}/{len(ordinary)}   confirming question: "
          f"{confirms}/{len(ordinary)}   questions about a sign alarmed: "
          f"{sum(o in alarm for o in about)}/{len(about)}, answered about the sign: "
          f"{sum(o == 'answer' for o in about)}/{len(about)}")
    if show_misses:
        for row, got, flag, intent in outcomes:
            expected = row["expected"]
            wrong = (got not in (("emergency",) if expected == "emergency" else alarm)
                     if expected != "none" else got in alarm + ("confirm",))
            if wrong:
                print(f"   miss {expected:9} {row['sign']:19} -> {got:9} {flag:20} {intent:24}"
                      f" {row['text']!r}")
    return heads


def _sign_line(label: str, got: list[str]) -> None:
    count = Counter(got)
    known = ("emergency", "urgent", "confirm", "answer", "fallback")
    other = sum(n for o, n in count.items() if o not in known)
    print(f"  {label:22} {len(got):3d} " + " ".join(
        f"{count[o]:{w}d}" for o, w in zip(known, (4, 5, 7, 6, 6))) + f" {other:5d}")


def blind_main(args) -> int:
    sets = sorted(BLIND.glob("set_*.tsv"))
    if args.set:
        sets = [path for path in sets if path.stem in args.set or path.name in args.set]
    all_texts = [row["text"] for path in sets for row in load_blind(path)]
    raters = [("straight into the decision", direct_rater)]
    if args.nlu_sim:
        raters.append(("through the simulator NLU (en-US)", simulator_rater()))
    if args.nlu_semantic:
        raters.append(("through semantic_nlu (en-US)",
                       semantic_rater(args.nlu_semantic, all_texts)))
    print(f"code: {CODE_ROOT}")
    for label, rate in raters:
        for path in sets:
            holdout = path.name == HOLDOUT
            blind_report(f"{path.name}{' (holdout)' if holdout else ''}, {label}",
                         load_blind(path), rate, args.misses and not holdout)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blind", action="store_true", help="play the blind sets")
    parser.add_argument("--root", type=Path, help="the checkout to measure (default: this)")
    parser.add_argument("--nlu-sim", action="store_true")
    parser.add_argument("--nlu-semantic", metavar="PYTHON")
    parser.add_argument("--misses", action="store_true",
                        help="list the tuning sets' misses (A, C; never the holdout B)")
    parser.add_argument("--set", action="append", metavar="NAME",
                        help="only this blind set (set_a, set_b, set_c; repeatable)")
    parser.add_argument("--file", type=Path, default=DATA)
    parser.add_argument("--nlu", action="store_true", help="also rate through the simulator NLU")
    parser.add_argument("--locale", action="append", help="locale(s) for --nlu (default: all)")
    parser.add_argument("--quiet", action="store_true", help="numbers only, no list of misses")
    args = parser.parse_args(argv)
    if args.blind:
        return blind_main(args)
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
