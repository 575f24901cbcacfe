#!/usr/bin/env python3
"""Held-out evaluation: do unseen phrasings reach the right intent and the right answer?

Why: the skill will be judged on phrasings nobody on the team has seen. This plays a
held-out set (tests/data/heldout_utterances.tsv, written without looking at the
interaction model or the red-flag data) two ways, for each locale asked for:

1. NLU: the simulator's language understanding (`simulator.nlu.load_resolver(locale)
   .resolve(text)`, a strict pattern matcher built on the interaction model) -- did the
   utterance land in the expected intent (and slot value)?
2. Outcome: a fresh session (LaunchRequest, then the utterance as an IntentRequest built
   from that resolution with `Envelopes` and `nlu.request_slots`) through the real
   `lambda/lambda_function.lambda_handler` -- did the user hear the right thing?

   WhyLegFallsAsleepIntent      speech starts "In simple terms"
   TopicIntent|QuestionIntent   speech mentions one of the keywords in the third column
                                ("a/b"), and is not urgent/emergency guidance
   DoctorCheckIntent            speech asks the check's first question
   StartRoutineIntent           step 1 of the routine (of the variant named in column 3)
   RED_FLAG                     guidance at least as serious as column 3: emergency =
                                speech starts "Call <number> now."; urgent = the locale's
                                urgent-care opening (or emergency guidance)

Real Alexa generalizes beyond the samples, so a row is reported as one of:
  ok                  NLU and outcome both right
  NLU miss, rescued   the simulator picked another intent but the user still heard the
                      right thing (e.g. free-text search found the answer)
  NLU miss            wrong intent and wrong outcome (likely a missing sample/carrier;
                      real Alexa may or may not generalize to it)
  handler miss        the right intent (slot filled) yet the wrong outcome
For RED_FLAG misses, the cause is narrowed further: the red-flag data does not know the
phrase at all (triage of the whole text is too low), or the carrier ate the words that
mattered (triage of the whole text is fine, of the slot text is not).

With --triage FILE it also plays a labelled triage set (text<TAB>level, '#' comments)
through the handler the same way and checks what the user hears for each level.

usage: python tools/heldout_report.py [--locale en-GB ...|--all-locales]
                                      [--file PATH] [--triage PATH] [--quiet]
"""

from __future__ import annotations

import argparse
import logging
import sys
import uuid
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for entry in (ROOT, ROOT / "lambda"):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from lambda_function import lambda_handler  # noqa: E402
from skill.dialog import doctor_check, guidance, locales, routine, ssml, triage  # noqa: E402
from simulator import nlu  # noqa: E402
from simulator.envelopes import Envelopes  # noqa: E402
from tools.triage_report import load as load_triage  # noqa: E402

UTTERANCES = ROOT / "tests" / "data" / "heldout_utterances.tsv"
RED_FLAG = "RED_FLAG"
FLAGSHIP_START = "in simple terms"


def load_utterances(path: Path) -> list[tuple[str, str, str]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if number == 1 and parts[0].strip().lower() == "utterance":
            continue  # header
        if len(parts) < 2:
            raise ValueError(f"{path.name}:{number}: expected 'utterance<TAB>intent[<TAB>slot]'")
        rows.append((parts[0].strip(), parts[1].strip(), parts[2].strip() if len(parts) > 2 else ""))
    return rows


# ------------------------------------------------------------------- playing one turn

class Player:
    """One locale: resolve text with the simulator NLU, play it through the Lambda handler."""

    def __init__(self, locale: str):
        self.locale = locale
        self.resolver = nlu.load_resolver(locale)
        self.info = locales.info(locale)
        # openings rendered the way the user hears them (numbers carry <sub> aliases)
        self.emergency_start = self._heard(guidance.framing("emergency_open").format(
            number=self.info.number))
        self.urgent_start = self._heard(self.info.urgent_open)
        self.routine_start = self._heard(guidance.framing("routine_open").format(
            doctor=self.info.doctor))
        self.first_question = doctor_check.questions()[0].text.lower()

    def _heard(self, text: str) -> str:
        return ssml.to_plain_text(guidance.speak([text], self.info)).lower()

    def play(self, text: str):
        resolution = self.resolver.resolve(text)
        envelopes = Envelopes(locale=self.locale,
                              user_id=f"amzn1.ask.account.heldout-{uuid.uuid4()}")
        envelopes.carry(lambda_handler(envelopes.launch(), None))  # "open leg numbness guide"
        response = lambda_handler(
            envelopes.intent(resolution.intent, nlu.request_slots(resolution)), None)
        body = response.get("response", {})
        speech = ssml.to_plain_text(body.get("outputSpeech", {}).get("ssml", ""))
        card = (body.get("card") or {}).get("title") or ""
        return resolution, speech, card

    def heard_level(self, speech: str) -> str:
        """Which guidance the user heard (none when it was not guidance)."""
        spoken = speech.lower()
        if spoken.startswith(self.emergency_start):
            return triage.EMERGENCY
        if spoken.startswith(self.urgent_start):
            return triage.URGENT
        if spoken.startswith(self.routine_start):
            return triage.ROUTINE
        return triage.NONE


def slot_texts(resolution) -> list[str]:
    texts = []
    for slot in resolution.slots.values():
        texts += [t for t in (slot.get("value"), slot.get("resolved_name"), slot.get("resolved_id"))
                  if t]
    return texts


def nlu_ok(resolution, intent: str, expected_slot: str) -> bool:
    if intent == RED_FLAG:
        return any(slot.get("value") for slot in resolution.slots.values())
    if resolution.intent not in intent.split("|"):
        return False
    if intent == "StartRoutineIntent" and expected_slot:
        return any(routine.normalize_variant(t) == expected_slot for t in slot_texts(resolution))
    return True


def outcome_ok(player: Player, intent: str, expected: str, speech: str, card: str) -> bool:
    spoken = speech.lower()
    level = player.heard_level(speech)
    if intent == "WhyLegFallsAsleepIntent":
        return spoken.startswith(FLAGSHIP_START)
    if intent == "DoctorCheckIntent":
        return player.first_question in spoken
    if intent == "StartRoutineIntent":
        variant = expected or routine.default_variant()
        title = routine.data()["variants"][variant]["title"]
        return card.startswith(f"{title}: step 1 of")
    if intent == RED_FLAG:
        return triage.rank(level) >= triage.rank(expected or triage.URGENT)
    # topic / question
    keywords = [k.strip().lower() for k in expected.split("/") if k.strip()]
    return level not in (triage.URGENT, triage.EMERGENCY) and (
        not keywords or any(k in spoken for k in keywords))


def red_flag_cause(text: str, resolution, expected: str) -> str:
    want = triage.rank(expected or triage.URGENT)
    if triage.rank(triage.assess(text).level) < want:
        return "red-flag data: phrase unknown to triage"
    texts = [slot.get("value") for slot in resolution.slots.values() if slot.get("value")]
    if not texts:
        return "model: no slot carries the text"
    if triage.rank(triage.assess_all(texts).level) < want:
        return "model: carrier ate the words that matter"
    return "handler"


# ------------------------------------------------------------------------ the reports

def utterance_report(player: Player, rows, quiet: bool) -> None:
    totals: dict[str, Counter] = defaultdict(Counter)
    misses = []
    for text, intent, expected in rows:
        resolution, speech, card = player.play(text)
        n_ok = nlu_ok(resolution, intent, expected)
        o_ok = outcome_ok(player, intent, expected, speech, card)
        kind = ("ok" if n_ok and o_ok else "NLU miss, rescued" if o_ok
                else "handler miss" if n_ok else "NLU miss")
        totals[intent]["n"] += 1
        totals[intent]["nlu"] += n_ok
        totals[intent]["outcome"] += o_ok
        if kind != "ok":
            cause = red_flag_cause(text, resolution, expected) if intent == RED_FLAG and not o_ok else ""
            misses.append((kind, intent, text, expected, resolution, speech, cause))
    print(f"== utterances through the {player.locale} model and the Lambda handler: "
          f"{len(rows)} utterances")
    print(f"  {'expected intent':30} {'n':>4} {'NLU':>7} {'outcome':>8}")
    all_n = all_nlu = all_out = 0
    for intent, c in totals.items():
        print(f"  {intent:30} {c['n']:4d} {c['nlu'] / c['n']:7.1%} {c['outcome'] / c['n']:8.1%}")
        all_n, all_nlu, all_out = all_n + c["n"], all_nlu + c["nlu"], all_out + c["outcome"]
    print(f"  {'all':30} {all_n:4d} {all_nlu / all_n:7.1%} {all_out / all_n:8.1%}")
    if quiet or not misses:
        return
    print("  misses:")
    for kind in ("NLU miss", "handler miss", "NLU miss, rescued"):
        for k, intent, text, expected, resolution, speech, cause in misses:
            if k != kind:
                continue
            slots = {n: s.get("resolved_id") or s.get("value") for n, s in resolution.slots.items()}
            extra = f" <{cause}>" if cause else ""
            print(f"   [{kind}] {intent}{'(' + expected + ')' if expected else ''}: {text!r}"
                  f" -> {resolution.intent} {slots}{extra}\n        heard: {speech[:110]!r}")


def triage_handler_report(player: Player, rows, quiet: bool) -> None:
    matrix: Counter = Counter()
    misses = []
    for text, expected in rows:
        resolution, speech, _ = player.play(text)
        got = player.heard_level(speech)
        matrix[(expected, got)] += 1
        if got != expected:
            misses.append((text, expected, got, resolution, speech))
    print(f"== triage set played through the {player.locale} model and the Lambda handler: "
          f"{len(rows)} texts")
    for level in (triage.EMERGENCY, triage.URGENT, triage.ROUTINE):
        n = sum(v for (e, _), v in matrix.items() if e == level)
        found = sum(v for (e, g), v in matrix.items()
                    if e == level and triage.rank(g) >= triage.rank(level))
        print(f"  recall {level:9} {found / n if n else 1:6.1%}   (n={n})")
    n = sum(v for (e, _), v in matrix.items() if e == triage.NONE)
    alarms = sum(matrix[(triage.NONE, g)] for g in (triage.URGENT, triage.EMERGENCY))
    print(f"  false alarms (none -> urgent/emergency) {alarms / n if n else 0:6.1%}   "
          f"none -> routine {matrix[(triage.NONE, triage.ROUTINE)] / n if n else 0:6.1%}   (n={n})")
    if quiet:
        return
    for text, expected, got, resolution, speech in misses:
        marker = "!!" if triage.rank(got) < triage.rank(expected) else "  "
        print(f"   {marker} {expected:9} -> {got:9} {text!r} [{resolution.intent} "
              f"{slot_texts(resolution)}]\n        heard: {speech[:110]!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=UTTERANCES)
    parser.add_argument("--triage", type=Path, help="also play a labelled triage set")
    parser.add_argument("--locale", action="append", help="locale(s) (default en-US)")
    parser.add_argument("--all-locales", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="numbers only")
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)  # the request log would drown the report
    chosen = locales.supported() if args.all_locales else (args.locale or ["en-US"])
    rows = load_utterances(args.file)
    for locale in chosen:
        player = Player(locale)
        utterance_report(player, rows, args.quiet)
        if args.triage:
            triage_handler_report(player, load_triage(args.triage), args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
