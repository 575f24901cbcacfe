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

HEARD_DISCLAIMER = "heard_disclaimer"  # the same key the LaunchRequest handler sets
PENDING_RESUME = "resume_routine"  # = PENDING_RESUME (a test keeps them equal)
PERSISTENT_KEY = "routine"  # = routine.PERSISTENT_KEY


def _routine():
    """`skill.dialog.routine`, imported on first use rather than at module level.

    Every request passes through these handlers' `can_handle`, but few are about the
    stretch; the Lambda bundle ships no bytecode, so importing (compiling) the routine
    module for a plain launch would cost a few milliseconds of cold start for nothing.
    """
    from skill.dialog import routine

    return routine


def _respond(handler_input: HandlerInput, reply) -> Response:
    memory = persistent(handler_input)
    if _routine().remember_position(memory, get_state(handler_input)):
        save_persistent(handler_input)
    return respond(handler_input, reply)


def offer_resume(handler_input: HandlerInput) -> Response | None:
    """For the LaunchRequest handler: "Welcome back. Want to finish your stretch from
    step 3 of 6?" when an unfinished stretch from the last 24 hours is remembered, else
    None (and then nothing of the routine is even imported). A "yes" or "no" next is
    handled here (`ResumeOfferAnswerHandler`).

        response = routine_handlers.offer_resume(handler_input)
        if response is not None:
            return response
    """
    memory = persistent(handler_input)
    if not isinstance(memory.get(PERSISTENT_KEY), dict):
        return None
    reply = _routine().resume_offer(get_state(handler_input), memory)
    if reply is None:
        return None
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
        reply = _routine().start(get_state(handler_input), wanted, with_disclaimer=first_time)
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
        reply = _routine().discomfort(state, " ".join(words), locale(handler_input),
                                   during_routine=state.mode == "routine")
        return _respond(handler_input, reply)


class ResumeOfferAnswerHandler(AbstractRequestHandler):
    """"Yes"/"no" to "Want to finish your stretch from step 3 of 6?"."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return (get_state(handler_input).pending == PENDING_RESUME
                and _any_intent(handler_input, "AMAZON.YesIntent", "AMAZON.NoIntent"))

    def handle(self, handler_input: HandlerInput) -> Response:
        state = get_state(handler_input)
        if is_intent_name("AMAZON.YesIntent")(handler_input):
            return _respond(handler_input,
                            _routine().resume_saved(state, persistent(handler_input)))
        return _respond(handler_input, _routine().decline_resume(state))


class ResumeSavedRoutineHandler(AbstractRequestHandler):
    """"Resume" in a new session ("ask pins and needles to resume"), when a stretch was
    left unfinished. Without one, "resume" is left to the core handlers."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        if not is_intent_name("AMAZON.ResumeIntent")(handler_input) or _in_routine(handler_input):
            return False
        if get_state(handler_input).mode == "doctor_check":
            return False
        memory = persistent(handler_input)
        return (isinstance(memory.get(PERSISTENT_KEY), dict)
                and _routine().saved_position(memory) is not None)

    def handle(self, handler_input: HandlerInput) -> Response:
        reply = _routine().resume_saved(get_state(handler_input), persistent(handler_input))
        return _respond(handler_input, reply)


class _RoutineControl(AbstractRequestHandler):
    """One built-in or routine intent, honoured only while the routine is running."""

    intents: tuple[str, ...] = ()

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return _in_routine(handler_input) and _any_intent(handler_input, *self.intents)

    def handle(self, handler_input: HandlerInput) -> Response:
        return _respond(handler_input, self.control(get_state(handler_input)))

    def control(self, state):
        raise NotImplementedError


class NextHandler(_RoutineControl):
    """"Next", and "yes" to "say next when you're ready"."""

    intents = ("AMAZON.NextIntent", "AMAZON.YesIntent")

    def control(self, state):
        return _routine().next_step(state)


class PreviousHandler(_RoutineControl):
    intents = ("AMAZON.PreviousIntent",)

    def control(self, state):
        return _routine().previous_step(state)


class RepeatHandler(_RoutineControl):
    """The whole current step again (not just the last thing said, which may have been
    "you have three to go")."""

    intents = ("AMAZON.RepeatIntent",)

    def control(self, state):
        return _routine().repeat(state)


class PauseHandler(_RoutineControl):
    intents = ("AMAZON.PauseIntent",)

    def control(self, state):
        return _routine().pause(state)


class ResumeHandler(_RoutineControl):
    intents = ("AMAZON.ResumeIntent",)

    def control(self, state):
        return _routine().resume(state)


class StartOverHandler(_RoutineControl):
    intents = ("AMAZON.StartOverIntent",)

    def control(self, state):
        return _routine().start_over(state)


class SkipHandler(_RoutineControl):
    intents = ("SkipStepIntent",)

    def control(self, state):
        return _routine().skip(state)


class StepsLeftHandler(_RoutineControl):
    intents = ("StepsLeftIntent",)

    def control(self, state):
        return _routine().steps_left(state)


class HelpHandler(_RoutineControl):
    intents = ("AMAZON.HelpIntent",)

    def control(self, state):
        return _routine().help(state)


class StopHandler(_RoutineControl):
    """Stop or cancel: end the session, remembering the step for next time."""

    intents = ("AMAZON.StopIntent", "AMAZON.CancelIntent")

    def control(self, state):
        return _routine().stop(state)


class NoHandler(_RoutineControl):
    intents = ("AMAZON.NoIntent",)

    def control(self, state):
        return _routine().not_yet(state)


class FallbackHandler(_RoutineControl):
    """Not understood mid-stretch: say which words work, and keep the place."""

    intents = ("AMAZON.FallbackIntent",)

    def control(self, state):
        return _routine().fallback(state)


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
