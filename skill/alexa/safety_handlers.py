"""Red flags first: triage over every slot of every IntentRequest, in any state.

Why a handler registered before all others (see builder.py): a person may mention a
drooping face at any moment -- in a one-shot request, mid-question, halfway through the
doctor check or the stretch routine -- and whatever the skill was doing must give way.
`RedFlagHandler.can_handle` triages every slot value (heard and resolved) once per
request and claims the request when `triage.preempting_level` says guidance comes first:
emergency and urgent anywhere; routine when the user describes themselves.

What the words mean for safety is decided in skill/dialog/safety.py: guidance, an answer
about a sign (a question about it, not a report), or one confirming yes/no question when
the statistical detector suspects a sign the rules missed (`ConfirmAnswerHandler` takes
the yes / no / not sure).

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


_ANSWER_WORDS = {"AMAZON.YesIntent": "yes", "AMAZON.NoIntent": "no", "UnsureIntent": "unsure"}
_FEATURE_MODES = ("doctor_check", "routine")
_FALLBACK = "AMAZON.FallbackIntent"


class _NothingToDecide:
    """The decision for a request that carries no words (not an IntentRequest)."""

    action, flag, assessment, preempts = "none", None, None, False


_NOTHING_TO_DECIDE = _NothingToDecide()


def decision(handler_input: HandlerInput):
    """This request's `safety.Decision` (cached per request).

    `.preempts` False means: no guidance comes first; let the other handlers answer.
    A confirming question still waiting when something other than yes / no / not sure
    comes lapses here, so a later bare "yes" cannot be read as its answer.
    """
    if not is_request_type("IntentRequest")(handler_input):
        return _NOTHING_TO_DECIDE  # a launch or a session end loads no triage
    attrs = handler_input.attributes_manager.request_attributes
    cached = attrs.get(_DECISION)
    if cached is not None:
        return cached
    from skill.dialog import safety

    result = safety.Decision(safety.NONE)
    try:
        intent = _intent_name(handler_input)
        state = get_state(handler_input)
        if intent not in _ANSWER_WORDS and intent != _FALLBACK:
            safety.forget_unanswered(state)
        texts, resolved_topic = _slot_texts(handler_input)
        if texts:
            result = safety.decide(
                texts, intent,
                catalogue_topic=intent == _TOPIC_INTENT and resolved_topic,
                may_confirm=not safety.already_asked(state)
                and state.mode not in _FEATURE_MODES)
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
    """Any intent, any state: a red flag in any slot gets guidance before anything else;
    a question about a sign gets its passage; a suspected sign gets one yes/no question."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return decision(handler_input).preempts

    def handle(self, handler_input: HandlerInput) -> Response:
        from skill.dialog import guidance, safety

        found = decision(handler_input)
        intent = _intent_name(handler_input)
        log.info("safety: action=%s flag=%s intent=%s", found.action, found.flag, intent)
        state = get_state(handler_input)
        where = locale(handler_input)
        if found.action == safety.CONFIRM:
            texts, _ = _slot_texts(handler_input)
            return respond(handler_input, safety.ask(state, found.flag, intent, texts, where))
        if found.action == safety.ANSWER:
            reply = guidance.about_sign(where, found.flag)
            guidance.settle_state(state, reply)
            state.pending = None
        else:
            reply = guidance.reply_for(found.action, where, found.flag)
            guidance.settle_state(state, reply)
        _forget_stretch(handler_input)
        return respond(handler_input, reply)


class ConfirmAnswerHandler(AbstractRequestHandler):
    """Yes, no or not sure to the one confirming question (`safety.answer`)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        if _intent_name(handler_input) not in _ANSWER_WORDS:
            return False
        from skill.dialog import safety

        return safety.pending_flag(get_state(handler_input)) is not None

    def handle(self, handler_input: HandlerInput) -> Response:
        from skill.dialog import safety

        word = _ANSWER_WORDS[_intent_name(handler_input)]
        reply = safety.answer(get_state(handler_input), word, locale(handler_input))
        if reply.end_session:
            _forget_stretch(handler_input)
        return respond(handler_input, reply)


class FallbackSafetyNetHandler(AbstractRequestHandler):
    """AMAZON.FallbackIntent carries no words, and they may have been a warning sign the
    model could not place: `safety.fallback` keeps an emergency line in the reply (README
    "Fallback safety net" has the figures behind this choice), mid-stretch too. Inside
    the warning-sign check its own fallback answers (it asks about a sign again); a
    damaged session hears the reset notice first."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        if not is_intent_name(_FALLBACK)(handler_input):
            return False
        state = get_state(handler_input)
        return state.mode != "doctor_check" and not state.was_reset

    def handle(self, handler_input: HandlerInput) -> Response:
        from skill.dialog import safety

        return respond(handler_input,
                       safety.fallback(get_state(handler_input), locale(handler_input)))


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


HANDLERS = (RedFlagHandler(), ConfirmAnswerHandler(), FallbackSafetyNetHandler(),
            SymptomHandler())
