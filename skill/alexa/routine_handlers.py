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
PENDING_START = "routine"  # = routine.PENDING_START: "yes" starts a stretch


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

    A one-shot "ask leg numbness guide to give me a stretch" skips the welcome, so the
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
    """"Resume" in a new session ("ask leg numbness guide to resume"), when a stretch was
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


class RoutineControlHandler(AbstractRequestHandler):
    """One routine control: its intents, honoured only while the routine is running, and
    the `dialog.routine` function that answers them (each keeps or moves the place)."""

    def __init__(self, intents: tuple[str, ...], control: str):
        self.intents = intents
        self.control = control

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return _in_routine(handler_input) and _any_intent(handler_input, *self.intents)

    def handle(self, handler_input: HandlerInput) -> Response:
        control = getattr(_routine(), self.control)
        return _respond(handler_input, control(get_state(handler_input)))


# intents -> the routine's answer, while a stretch runs. "Yes" to "say next when you're
# ready" is next, and so is "keep going" heard as "tell me more" (never a passage mid-stretch); repeat is the whole step again (not just the last thing said, which may
# have been "you have three to go"); stop and cancel end the session, keeping the place;
# anything not understood is AMAZON.FallbackIntent, answered by safety_handlers (the
# routine's own line, which says which words work, then the emergency line).
ROUTINE_CONTROLS = (
    (("AMAZON.NextIntent", "AMAZON.YesIntent", "TellMeMoreIntent"), "next_step"),
    (("AMAZON.PreviousIntent",), "previous_step"),
    (("AMAZON.RepeatIntent",), "repeat"),
    (("AMAZON.PauseIntent",), "pause"),
    (("AMAZON.ResumeIntent",), "resume"),
    (("AMAZON.StartOverIntent",), "start_over"),
    (("SkipStepIntent",), "skip"),
    (("StepsLeftIntent",), "steps_left"),
    (("AMAZON.HelpIntent",), "help"),
    (("AMAZON.StopIntent", "AMAZON.CancelIntent"), "stop"),
    (("AMAZON.NoIntent",), "not_yet"),
)

# Controls that only ever mean the stretch, and controls that mean it when nothing else has
# been said yet in this session ("Alexa, tell leg numbness guide next").
STRETCH_ONLY_CONTROLS = ("AMAZON.PreviousIntent", "AMAZON.PauseIntent", "SkipStepIntent",
                         "StepsLeftIntent")
NEW_SESSION_CONTROLS = ("AMAZON.NextIntent", "AMAZON.ResumeIntent", "TellMeMoreIntent",
                        "AMAZON.RepeatIntent", "AMAZON.StartOverIntent")


class NothingUnderwayHandler(AbstractRequestHandler):
    """A stretch control with no stretch running: pick up the saved stretch if there is
    one, otherwise say that nothing is under way and offer one -- never a medical passage
    out of nowhere, never "sorry, I can't help"."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        state = get_state(handler_input)
        if state.mode in ("routine", "doctor_check"):
            return False
        if _any_intent(handler_input, *STRETCH_ONLY_CONTROLS):
            return True
        return state.last_speech is None and _any_intent(handler_input, *NEW_SESSION_CONTROLS)

    def handle(self, handler_input: HandlerInput) -> Response:
        state = get_state(handler_input)
        memory = persistent(handler_input)
        if _routine().saved_position(memory) is not None:
            return _respond(handler_input, _routine().resume_saved(state, memory))
        return _respond(handler_input, _routine().nothing_under_way(state))


class AcceptStretchOfferHandler(AbstractRequestHandler):
    """"Yes" to "Nothing's under way. Want to do a short stretch?"."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return (get_state(handler_input).pending == PENDING_START
                and is_intent_name("AMAZON.YesIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        return StartRoutineHandler().handle(handler_input)


# Order: discomfort first (it must win whatever the state), then the answers to the
# welcome-back offer, then starting, then the in-routine controls.
HANDLERS = (
    DiscomfortHandler(),
    ResumeOfferAnswerHandler(),
    ResumeSavedRoutineHandler(),
    AcceptStretchOfferHandler(),
    StartRoutineHandler(),
    *(RoutineControlHandler(intents, control) for intents, control in ROUTINE_CONTROLS),
    NothingUnderwayHandler(),
)
