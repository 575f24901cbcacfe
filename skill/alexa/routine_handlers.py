"""Alexa handlers for the guided stretch routine: thin adapters onto `skill.dialog.routine`.

Registered (in `builder.py`) after the safety and doctor-check handlers and before the
core ones, so that while `state.mode == "routine"` the built-in "next", "back", "repeat",
"help", "stop"... drive the routine instead of the menu, and so that a red flag still
preempts everything.

Every handler here ends the same way (`_respond`): the routine position is copied into
long-term memory (written only when it changed), so a stretch stopped, paused or cut off
by a timeout can be offered back next session ("Welcome back. Want to finish your stretch
from step 3 of 6?", see `routine.resume_offer`).
"""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name
from ask_sdk_model import Response

from skill.alexa.context import (
    get_state,
    locale,
    persistent,
    respond,
    save_persistent,
    slot_values,
)
from skill.dialog import routine
from skill.dialog.reply import Reply

HEARD_DISCLAIMER = "heard_disclaimer"  # the same key the LaunchRequest handler sets


def _respond(handler_input: HandlerInput, reply: Reply) -> Response:
    memory = persistent(handler_input)
    if routine.remember_position(memory, get_state(handler_input)):
        save_persistent(handler_input)
    return respond(handler_input, reply)


def _in_routine(handler_input: HandlerInput) -> bool:
    return get_state(handler_input).mode == "routine"


def _any_intent(handler_input: HandlerInput, *names: str) -> bool:
    return any(is_intent_name(name)(handler_input) for name in names)


class StartRoutineHandler(AbstractRequestHandler):
    """"Give me a stretch", "standing stretch": start (or switch) the routine.

    A one-shot "ask pins and needles to give me a stretch" skips the welcome, so the
    first time a person starts a stretch this way they hear the disclaimer here.
    """

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("StartRoutineIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        variant = slot_values(handler_input).get("variant")
        wanted = (variant.id or variant.name or variant.raw) if variant else None
        memory = persistent(handler_input)
        first_time = not memory.get(HEARD_DISCLAIMER)
        if first_time:
            memory[HEARD_DISCLAIMER] = True
            save_persistent(handler_input)
        reply = routine.start(get_state(handler_input), wanted, with_disclaimer=first_time)
        return _respond(handler_input, reply)


class DiscomfortHandler(AbstractRequestHandler):
    """"Ouch", "it hurts", "I feel dizzy": stop the routine (if any) and let the triage
    decide what to say. Red flags normally never reach here (the safety handlers see
    every slot first); this is the fallback that still runs the words through triage."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("DiscomfortIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        words = []
        for name in ("feeling", "details"):
            value = slot_values(handler_input).get(name)
            if value is not None:
                words.extend(w for w in (value.raw, value.name) if w and w not in words)
        state = get_state(handler_input)
        reply = routine.discomfort(state, " ".join(words), locale(handler_input),
                                   during_routine=state.mode == "routine")
        return _respond(handler_input, reply)


class ResumeOfferAnswerHandler(AbstractRequestHandler):
    """"Yes"/"no" to "Want to finish your stretch from step 3 of 6?"."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return (get_state(handler_input).pending == routine.PENDING_RESUME
                and _any_intent(handler_input, "AMAZON.YesIntent", "AMAZON.NoIntent"))

    def handle(self, handler_input: HandlerInput) -> Response:
        state = get_state(handler_input)
        if is_intent_name("AMAZON.YesIntent")(handler_input):
            return _respond(handler_input,
                            routine.resume_saved(state, persistent(handler_input)))
        return _respond(handler_input, routine.decline_resume(state))


class ResumeSavedRoutineHandler(AbstractRequestHandler):
    """"Resume" in a new session ("ask pins and needles to resume"), when a stretch was
    left unfinished. Without one, "resume" is left to the core handlers."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        if not is_intent_name("AMAZON.ResumeIntent")(handler_input) or _in_routine(handler_input):
            return False
        if get_state(handler_input).mode == "doctor_check":
            return False
        return routine.saved_position(persistent(handler_input)) is not None

    def handle(self, handler_input: HandlerInput) -> Response:
        reply = routine.resume_saved(get_state(handler_input), persistent(handler_input))
        return _respond(handler_input, reply)


class _RoutineControl(AbstractRequestHandler):
    """One built-in or routine intent, honoured only while the routine is running."""

    intents: tuple[str, ...] = ()

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return _in_routine(handler_input) and _any_intent(handler_input, *self.intents)

    def handle(self, handler_input: HandlerInput) -> Response:
        return _respond(handler_input, self.control(get_state(handler_input)))

    def control(self, state) -> Reply:
        raise NotImplementedError


class NextHandler(_RoutineControl):
    """"Next", and "yes" to "say next when you're ready"."""

    intents = ("AMAZON.NextIntent", "AMAZON.YesIntent")

    def control(self, state) -> Reply:
        return routine.next_step(state)


class PreviousHandler(_RoutineControl):
    intents = ("AMAZON.PreviousIntent",)

    def control(self, state) -> Reply:
        return routine.previous_step(state)


class RepeatHandler(_RoutineControl):
    """The whole current step again (not just the last thing said, which may have been
    "you have three to go")."""

    intents = ("AMAZON.RepeatIntent",)

    def control(self, state) -> Reply:
        return routine.repeat(state)


class PauseHandler(_RoutineControl):
    intents = ("AMAZON.PauseIntent",)

    def control(self, state) -> Reply:
        return routine.pause(state)


class ResumeHandler(_RoutineControl):
    intents = ("AMAZON.ResumeIntent",)

    def control(self, state) -> Reply:
        return routine.resume(state)


class StartOverHandler(_RoutineControl):
    intents = ("AMAZON.StartOverIntent",)

    def control(self, state) -> Reply:
        return routine.start_over(state)


class SkipHandler(_RoutineControl):
    intents = ("SkipStepIntent",)

    def control(self, state) -> Reply:
        return routine.skip(state)


class StepsLeftHandler(_RoutineControl):
    intents = ("StepsLeftIntent",)

    def control(self, state) -> Reply:
        return routine.steps_left(state)


class HelpHandler(_RoutineControl):
    intents = ("AMAZON.HelpIntent",)

    def control(self, state) -> Reply:
        return routine.help(state)


class StopHandler(_RoutineControl):
    """Stop or cancel: end the session, remembering the step for next time."""

    intents = ("AMAZON.StopIntent", "AMAZON.CancelIntent")

    def control(self, state) -> Reply:
        return routine.stop(state)


class NoHandler(_RoutineControl):
    intents = ("AMAZON.NoIntent",)

    def control(self, state) -> Reply:
        return routine.not_yet(state)


class FallbackHandler(_RoutineControl):
    """Not understood mid-stretch: say which words work, and keep the place."""

    intents = ("AMAZON.FallbackIntent",)

    def control(self, state) -> Reply:
        return routine.fallback(state)


# Order: discomfort first (it must win whatever the state), then the answers to the
# welcome-back offer, then starting, then the in-routine controls.
HANDLERS = (
    DiscomfortHandler(),
    ResumeOfferAnswerHandler(),
    ResumeSavedRoutineHandler(),
    StartRoutineHandler(),
    NextHandler(),
    PreviousHandler(),
    RepeatHandler(),
    PauseHandler(),
    ResumeHandler(),
    StartOverHandler(),
    SkipHandler(),
    StepsLeftHandler(),
    HelpHandler(),
    StopHandler(),
    NoHandler(),
    FallbackHandler(),
)
