"""Alexa handlers for the hands-free doctor check: thin adapters onto `dialog.doctor_check`.

Why their own module, registered after the safety handlers and before everything else:
while `state.mode == "doctor_check"`, Alexa's built-in "yes", "no", "repeat", "help" and
"start over" mean answers to the check, not menu commands. Free speech mid-check ("my face
is drooping") never reaches here -- the red-flag handler claims it first. Anything else
(a new question, "stop") falls through to the core handlers, which leave the check.

`HANDLERS` is what builder.py registers, in this order.
"""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name
from ask_sdk_model import Response

from skill.alexa.context import get_state, locale, persistent, respond, save_persistent
from skill.dialog import doctor_check, routine


def _any_intent(handler_input: HandlerInput, *names: str) -> bool:
    return any(is_intent_name(name)(handler_input) for name in names)


class StartCheckHandler(AbstractRequestHandler):
    """"Should I see a doctor?", "is this serious?": start the check, from any state."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("DoctorCheckIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        state = get_state(handler_input)
        if state.mode == "routine" or state.routine is not None:
            routine.end(state)  # a worried user is not asked to keep stretching
            if routine.remember_position(persistent(handler_input), state):
                save_persistent(handler_input)
        return respond(handler_input, doctor_check.start(state, locale(handler_input)))


class AcceptOfferHandler(AbstractRequestHandler):
    """"Yes" (or "not sure": err toward care) to "Want me to check for warning signs?"."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        state = get_state(handler_input)
        return (state.pending == doctor_check.PENDING_START
                and not doctor_check.in_check(state)
                and _any_intent(handler_input, "AMAZON.YesIntent", "UnsureIntent"))

    def handle(self, handler_input: HandlerInput) -> Response:
        state = get_state(handler_input)
        return respond(handler_input, doctor_check.start(state, locale(handler_input)))


class _InCheck(AbstractRequestHandler):
    """Base: claims `intents` only while the check owns the conversation."""

    intents: tuple[str, ...] = ()

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return (doctor_check.in_check(get_state(handler_input))
                and _any_intent(handler_input, *self.intents))

    def handle(self, handler_input: HandlerInput) -> Response:
        state = get_state(handler_input)
        return respond(handler_input, self.reply(state, locale(handler_input)))

    def reply(self, state, where):  # pragma: no cover - every subclass overrides
        raise NotImplementedError


class YesHandler(_InCheck):
    intents = ("AMAZON.YesIntent",)

    def reply(self, state, where):
        return doctor_check.answer(state, where, doctor_check.YES)


class NoHandler(_InCheck):
    intents = ("AMAZON.NoIntent",)

    def reply(self, state, where):
        return doctor_check.answer(state, where, doctor_check.NO)


class UnsureHandler(_InCheck):
    """"I'm not sure", "maybe": counted as yes (err toward care)."""

    intents = ("UnsureIntent",)

    def reply(self, state, where):
        return doctor_check.answer(state, where, doctor_check.UNSURE)


class RepeatHandler(_InCheck):
    intents = ("AMAZON.RepeatIntent",)

    def reply(self, state, where):
        return doctor_check.repeat(state, where)


class HelpHandler(_InCheck):
    intents = ("AMAZON.HelpIntent",)

    def reply(self, state, where):
        return doctor_check.help(state, where)


class StartOverHandler(_InCheck):
    intents = ("AMAZON.StartOverIntent",)

    def reply(self, state, where):
        return doctor_check.start(state, where)


class NotAnAnswerHandler(_InCheck):
    """Words that are not an answer ("next", gibberish): ask again, keep the place."""

    intents = ("AMAZON.FallbackIntent", "AMAZON.NextIntent", "AMAZON.PreviousIntent",
               "AMAZON.PauseIntent", "AMAZON.ResumeIntent", "TellMeMoreIntent")

    def reply(self, state, where):
        return doctor_check.not_understood(state, where)


class UnsureOutsideHandler(AbstractRequestHandler):
    """"I'm not sure" with nothing asked (and readable state): say what the skill does."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        state = get_state(handler_input)
        return is_intent_name("UnsureIntent")(handler_input) and not state.was_reset

    def handle(self, handler_input: HandlerInput) -> Response:
        state = get_state(handler_input)
        return respond(handler_input, doctor_check.unsure_outside(state, locale(handler_input)))


HANDLERS = (
    StartCheckHandler(),
    AcceptOfferHandler(),
    YesHandler(),
    NoHandler(),
    UnsureHandler(),
    RepeatHandler(),
    HelpHandler(),
    StartOverHandler(),
    NotAnAnswerHandler(),
    UnsureOutsideHandler(),
)
