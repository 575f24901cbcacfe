"""Name-free interaction: answer Alexa's CanFulfillIntentRequest honestly, and do nothing else.

Alexa asks "could you handle this intent with these slots?" before routing a request
like "Alexa, why does my leg fall asleep?" to a skill that was not named. Amazon's rules
(Implement CanFulfillIntentRequest for Name-free Interactions): answer YES, MAYBE or NO
for the intent and, per slot, whether the value is understood (YES / MAYBE / NO) and can
be fulfilled (YES / NO); cause no observable interaction and change no state. So this
handler speaks nothing, reads no long-term memory and writes no session state -- it only
looks the words up in the article's own catalogue, search index and red-flag triage.

How we judge:
- intents that make sense only inside a conversation ("tell me more", "skip", "next") and
  Amazon's built-ins: NO -- a one-shot request could not be served by them;
- intents without slots that the skill always answers (why, doctor check): YES;
- a slot whose value Alexa resolved against our slot type, or that our catalogue, search
  or triage recognises: understood YES, fulfilled YES;
- a slot value we do not recognise: understood MAYBE (the skill will still try: search,
  "I'm not sure the article covers that"), fulfilled YES -- and the intent MAYBE.
"""

from __future__ import annotations

import logging

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_request_type
from ask_sdk_model import Response
from ask_sdk_model.canfulfill import (
    CanFulfillIntent,
    CanFulfillIntentValues,
    CanFulfillSlot,
    CanFulfillSlotValues,
    CanUnderstandSlotValues,
)

from skill.alexa.context import slot_values

log = logging.getLogger(__name__)

YES, MAYBE, NO = "YES", "MAYBE", "NO"

#: Intents the skill can serve as a one-shot request, and how each slot is recognised.
ONE_SHOT_INTENTS: dict[str, dict[str, str]] = {
    "WhyLegFallsAsleepIntent": {},
    "DoctorCheckIntent": {},
    "TopicIntent": {"topic": "topic"},
    "QuestionIntent": {"query": "question"},
    "DescribeSymptomIntent": {"symptom": "symptom"},
    "SymptomStoryIntent": {"description": "symptom"},
    "StartRoutineIntent": {"variant": "variant"},
}


def _recognised(kind: str, raw: str | None, resolved: str | None) -> bool:
    """Does the skill itself know what `raw` means for a slot of `kind`? (Pure look-ups.)"""
    if resolved:
        return True
    if not raw or not raw.strip():
        return False
    if kind == "variant":
        from skill.dialog import routine

        return routine.normalize_variant(raw) is not None
    if kind == "symptom":
        from skill.dialog import triage

        return triage.assess(raw).level != triage.NONE
    from skill.content.catalogue import catalogue
    from skill.dialog import search

    return catalogue().find_topic(raw) is not None or search.best_passage(raw) is not None


def judge(intent_name: str | None, slots: dict) -> tuple[str, dict[str, tuple[str, str]]]:
    """(intent verdict, {slot: (can understand, can fulfill)}) for an intent and its slots.

    `slots` maps slot names to `context.SlotValue`s; slots without a value are left out,
    as Amazon's examples do.
    """
    known = ONE_SHOT_INTENTS.get(intent_name or "")
    verdicts: dict[str, tuple[str, str]] = {}
    if known is None:
        for name, value in slots.items():
            if value.raw:
                verdicts[name] = (NO, NO)
        return NO, verdicts
    overall = YES
    for name, value in slots.items():
        if not value.raw:
            continue
        kind = known.get(name)
        if kind is None:
            verdicts[name] = (NO, NO)
            overall = MAYBE
        elif _recognised(kind, value.raw, value.id):
            verdicts[name] = (YES, YES)
        else:
            verdicts[name] = (MAYBE, YES)
            overall = MAYBE
    return overall, verdicts


class CanFulfillIntentRequestHandler(AbstractRequestHandler):
    """YES / MAYBE / NO for the intent and each slot; no speech, no state, no memory."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("CanFulfillIntentRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        intent = getattr(handler_input.request_envelope.request, "intent", None)
        name = getattr(intent, "name", None)
        try:
            overall, verdicts = judge(name, slot_values(handler_input))
        except Exception:  # a look-up failing must not turn into an error reply
            log.exception("can-fulfill judgement failed; answering NO")
            overall, verdicts = NO, {}
        log.info("can fulfill: intent=%s verdict=%s", name, overall)
        handler_input.response_builder.set_can_fulfill_intent(CanFulfillIntent(
            can_fulfill=CanFulfillIntentValues(overall),
            slots={slot: CanFulfillSlot(can_understand=CanUnderstandSlotValues(understand),
                                        can_fulfill=CanFulfillSlotValues(fulfill))
                   for slot, (understand, fulfill) in verdicts.items()} or None))
        return handler_input.response_builder.response
