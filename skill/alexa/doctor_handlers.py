"""Alexa handlers for the hands-free doctor check: thin adapters onto `dialog.doctor_check`.

Why their own module, registered after the safety handlers and before everything else:
while `state.mode == "doctor_check"`, Alexa's built-in "yes", "no", "repeat", "help" and
"start over" mean answers to the check, not menu commands. Free speech mid-check ("my face
is drooping") never reaches here -- the red-flag handler claims it first. Anything else
(a new question, "stop") falls through to the core handlers, which leave the check.

`HANDLERS` is what builder.py registers, in this order. `skill.dialog.doctor_check` is
imported on first use: the Lambda bundle ships no bytecode, so a module imported at start
is compiled on every cold start, and most sessions never run the check.
"""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name
from ask_sdk_model import Response

from skill.alexa.context import get_state, locale, persistent, respond, save_persistent

MODE = "doctor_check"          # state.mode while the check runs (doctor_check.MODE)
PENDING_START = "doctor_check"  # state.pending after "want me to check?" (guidance)


def _check():
    from skill.dialog import doctor_check

    return doctor_check


def _any_intent(handler_input: HandlerInput, *names: str) -> bool:
    return any(is_intent_name(name)(handler_input) for name in names)


class StartCheckHandler(AbstractRequestHandler):
    """"Should I see a doctor?", "is this serious?": start the check, from any state."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("DoctorCheckIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        state = get_state(handler_input)
        if state.mode == "routine" or state.routine is not None:
            from skill.dialog import routine

            routine.end(state)  # a worried user is not asked to keep stretching
            if routine.remember_position(persistent(handler_input), state):
                save_persistent(handler_input)
        return respond(handler_input, _check().start(state, locale(handler_input)))


class AcceptOfferHandler(AbstractRequestHandler):
    """"Yes" (or "not sure": err toward care) to "Want me to check for warning signs?"."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        state = get_state(handler_input)
        return (state.pending == PENDING_START and state.mode != MODE
                and _any_intent(handler_input, "AMAZON.YesIntent", "UnsureIntent"))

    def handle(self, handler_input: HandlerInput) -> Response:
        state = get_state(handler_input)
        return respond(handler_input, _check().start(state, locale(handler_input)))


class CheckTurnHandler(AbstractRequestHandler):
    """One row of `IN_CHECK`: its intents, claimed only while the check owns the
    conversation, answered by `doctor_check.<reply>(state, locale, *answer)`."""

    def __init__(self, intents: tuple[str, ...], reply: str, *answer: str):
        self.intents = intents
        self.reply = reply
        self.answer = answer  # names of doctor_check constants (YES, NO, UNSURE)

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return (get_state(handler_input).mode == MODE
                and _any_intent(handler_input, *self.intents))

    def handle(self, handler_input: HandlerInput) -> Response:
        check = _check()
        reply = getattr(check, self.reply)(get_state(handler_input), locale(handler_input),
                                           *(getattr(check, name) for name in self.answer))
        return respond(handler_input, reply)


# While the check runs: "not sure" and "maybe" count as yes (err toward care, in
# doctor_check.answer); words that are not an answer ("next", gibberish) ask again and keep
# the place; anything else (a new question, "stop") falls through to the core handlers.
IN_CHECK = (
    (("AMAZON.YesIntent",), "answer", "YES"),
    (("AMAZON.NoIntent",), "answer", "NO"),
    (("UnsureIntent",), "answer", "UNSURE"),
    (("AMAZON.RepeatIntent",), "repeat"),
    (("AMAZON.HelpIntent",), "help"),
    (("AMAZON.StartOverIntent",), "start"),
    (("AMAZON.FallbackIntent", "AMAZON.NextIntent", "AMAZON.PreviousIntent",
      "AMAZON.PauseIntent", "AMAZON.ResumeIntent", "TellMeMoreIntent"), "not_understood"),
)


class UnsureOutsideHandler(AbstractRequestHandler):
    """"I'm not sure" with nothing asked (and readable state): say what the skill does."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        state = get_state(handler_input)
        return is_intent_name("UnsureIntent")(handler_input) and not state.was_reset

    def handle(self, handler_input: HandlerInput) -> Response:
        state = get_state(handler_input)
        return respond(handler_input, _check().unsure_outside(state, locale(handler_input)))


HANDLERS = (
    StartCheckHandler(),
    AcceptOfferHandler(),
    *(CheckTurnHandler(intents, reply, *answer) for intents, reply, *answer in IN_CHECK),
    UnsureOutsideHandler(),
)
