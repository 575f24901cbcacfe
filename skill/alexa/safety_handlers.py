"""Red flags first: triage over every slot of every IntentRequest, in any state.

Why a handler registered before all others (see builder.py): a person may mention a
drooping face at any moment -- in a one-shot request, mid-question, halfway through the
doctor check or the stretch routine -- and whatever the skill was doing must give way.
`RedFlagHandler.can_handle` triages every slot value (heard and resolved) once per
request and claims the request when `triage.preempting_level` says guidance comes first:
emergency and urgent anywhere; routine when the user describes themselves.

The symptom intents (DescribeSymptomIntent, SymptomStoryIntent) are answered here too:
a description that triage rates "none" hears a short reassuring line from the article and
an offer to check the warning signs -- never silence or an error. Mid-check it is noted
and the question asked again; mid-stretch the routine's own "stop and rest" answers it.

`HANDLERS` is what builder.py registers, first, in this order.

The dialog modules are imported on first use, not at module level: the Lambda bundle
ships no bytecode, so every module imported at start is compiled on the cold start, and
a LaunchRequest (or any request without slot text) needs none of them.
"""

from __future__ import annotations

import logging

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name, is_request_type
from ask_sdk_model import Response

from skill.alexa.context import (
    get_state,
    locale,
    persistent,
    respond,
    save_persistent,
    slot_values,
)

log = logging.getLogger(__name__)

# Request attribute caching this request's triage, so can_handle and handle agree and
# the slots are assessed once.
_DECISION = "safety_decision"
_STORY_INTENTS = ("DescribeSymptomIntent", "SymptomStoryIntent")
_TOPIC_INTENT = "TopicIntent"
_NONE = "none"


def _intent_name(handler_input: HandlerInput) -> str | None:
    intent = getattr(handler_input.request_envelope.request, "intent", None)
    name = getattr(intent, "name", None)
    return name if isinstance(name, str) else None


def _slot_texts(handler_input: HandlerInput) -> tuple[list[str], bool]:
    """Every word heard in a slot, and resolved names; and whether a topic name resolved."""
    texts: list[str] = []
    resolved_topic = False
    for name, value in slot_values(handler_input).items():
        for text in (value.raw, value.name):
            if isinstance(text, str) and text.strip() and text not in texts:
                texts.append(text)
        if name == "topic" and value.id:
            resolved_topic = True
    return texts, resolved_topic


def decision(handler_input: HandlerInput) -> tuple[str, object]:
    """(level of guidance that preempts this request, the `triage.Assessment` behind it).

    Cached per request. "none" means: no guidance comes first; let the other handlers
    answer (the assessment is then None when there was no slot text to assess).
    """
    attrs = handler_input.attributes_manager.request_attributes
    cached = attrs.get(_DECISION)
    if cached is not None:
        return cached
    result = (_NONE, None)
    if is_request_type("IntentRequest")(handler_input):
        try:
            intent = _intent_name(handler_input)
            texts, resolved_topic = _slot_texts(handler_input)
            if texts:
                from skill.dialog import triage

                assessment = triage.assess_all(texts, question=triage.question_hint(intent))
                level = triage.preempting_level(
                    assessment, intent,
                    catalogue_topic=intent == _TOPIC_INTENT and resolved_topic)
                result = (level, assessment)
        except Exception:  # triage must never be the reason a request fails
            log.exception("triage failed; treating the request as carrying no red flag")
    attrs[_DECISION] = result
    return result


def _forget_stretch(handler_input: HandlerInput) -> None:
    """Guidance closed the routine; forget its saved place so it isn't offered back."""
    from skill.dialog import routine

    if routine.remember_position(persistent(handler_input), get_state(handler_input)):
        save_persistent(handler_input)


class RedFlagHandler(AbstractRequestHandler):
    """Any intent, any state: a red flag in any slot gets guidance before anything else."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        level, _ = decision(handler_input)
        return level != _NONE

    def handle(self, handler_input: HandlerInput) -> Response:
        from skill.dialog import guidance

        level, assessment = decision(handler_input)
        log.info("red flag: level=%s flags=%s intent=%s", level, ",".join(assessment.flags),
                 _intent_name(handler_input))
        state = get_state(handler_input)
        reply = guidance.reply_for(level, locale(handler_input), assessment.primary)
        guidance.settle_state(state, reply)
        _forget_stretch(handler_input)
        return respond(handler_input, reply)


class SymptomHandler(AbstractRequestHandler):
    """A described symptom with no red flag: reassure, and offer the warning-sign check."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return any(is_intent_name(name)(handler_input) for name in _STORY_INTENTS)

    def handle(self, handler_input: HandlerInput) -> Response:
        from skill.dialog import doctor_check, guidance, routine

        state = get_state(handler_input)
        where = locale(handler_input)
        if doctor_check.in_check(state):
            return respond(handler_input, doctor_check.noted(state, where))
        if state.mode == "routine":
            texts, _ = _slot_texts(handler_input)
            reply = routine.discomfort(state, " ".join(texts), where, during_routine=True)
            _forget_stretch(handler_input)
            return respond(handler_input, reply)
        reply = guidance.reassurance(where)
        guidance.settle_state(state, reply)
        return respond(handler_input, reply)


HANDLERS = (RedFlagHandler(), SymptomHandler())
