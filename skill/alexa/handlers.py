"""Core request handlers: launch, answers from the article, and Alexa's built-in intents.

Each handler is a thin adapter: read the request, call one dialog function, respond.
Feature handlers (safety, doctor check, stretch routine) live in their own modules and are
registered before these in `builder.py`, so they see requests first.
"""

from __future__ import annotations

import importlib
import logging

from ask_sdk_core.dispatch_components import AbstractExceptionHandler, AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import get_intent_name, is_intent_name, is_request_type
from ask_sdk_model import Response, Slot

from skill.alexa import routine_handlers
from skill.alexa.context import get_state, persistent, respond, save_persistent, slot_values
from skill.dialog import menu

log = logging.getLogger(__name__)


def _answers():
    """`skill.dialog.answers` (and the catalogue behind it), imported on first use: a
    LaunchRequest, the usual cold start, never needs the article's passages."""
    from skill.dialog import answers

    return answers

HEARD_DISCLAIMER = "heard_disclaimer"

# Intents whose meaning depends on what was said before: with a tampered or stale session
# they cannot be honoured, so the user hears a short "let's start fresh" instead.
CONTEXTUAL_INTENTS = (
    "AMAZON.YesIntent", "AMAZON.NoIntent", "TellMeMoreIntent", "AMAZON.RepeatIntent",
    "AMAZON.NextIntent", "AMAZON.PreviousIntent", "AMAZON.ResumeIntent", "UnsureIntent",
)


_REINTERPRETED = "reinterpreted_intent"


def _reinterpreted(handler_input: HandlerInput) -> str | None:
    """The intent the words mean in this state (`dialog.reinterpret`), once per request;
    None when Alexa's choice stands or when triage found something (red flags first)."""
    attrs = handler_input.attributes_manager.request_attributes
    if _REINTERPRETED not in attrs:
        attrs[_REINTERPRETED] = None
        if is_request_type("IntentRequest")(handler_input):
            from skill.alexa import safety_handlers

            intent = get_intent_name(handler_input)
            if intent in _reinterpret().FREE_TEXT_INTENTS and \
                    not safety_handlers.decision(handler_input).preempts:
                texts = [v.raw or v.name for v in slot_values(handler_input).values()]
                meaning = _reinterpret().meaning(get_state(handler_input), intent,
                                                 [t for t in texts if t])
                attrs[_REINTERPRETED] = meaning if meaning != intent else None
    return attrs[_REINTERPRETED]


def _reinterpret():
    from skill.dialog import reinterpret

    return reinterpret


class ReinterpretHandler(AbstractRequestHandler):
    """Words that mean something else where the user is ("done with that one" heard as a
    question mid-stretch): answer what they mean, by handing the request, renamed, to the
    handler that owns that intent. Registered first; it defers to red-flag triage."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return _reinterpreted(handler_input) is not None

    def handle(self, handler_input: HandlerInput) -> Response:
        from skill.alexa.builder import request_handlers

        meaning = _reinterpreted(handler_input)
        intent = handler_input.request_envelope.request.intent
        words = " ".join(v.raw or v.name for v in slot_values(handler_input).values()
                         if v.raw or v.name)
        log.info("reinterpreted %s as %s", intent.name, meaning)
        intent.name = meaning
        intent.slots = ({"query": Slot(name="query", value=words)}
                        if meaning == _reinterpret().QUESTION else {})
        for handler in request_handlers():
            if handler is not self and not isinstance(handler, ReinterpretHandler) \
                    and handler.can_handle(handler_input):
                return handler.handle(handler_input)
        return respond(handler_input, menu.fallback(get_state(handler_input)))  # unreachable


class LaunchRequestHandler(AbstractRequestHandler):
    """Welcome: the full disclaimer the first time; after that a shorter greeting, or an
    offer to finish a stretch left unfinished."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("LaunchRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        memory = persistent(handler_input)
        first_time = not memory.get(HEARD_DISCLAIMER)
        if not first_time:
            offer = routine_handlers.offer_resume(handler_input)
            if offer is not None:
                return offer
        if first_time:
            memory[HEARD_DISCLAIMER] = True
            save_persistent(handler_input)
        return respond(handler_input, menu.welcome(get_state(handler_input), first_time))


class StaleStateHandler(AbstractRequestHandler):
    """A "yes" or "tell me more" that arrives with unreadable session memory."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return get_state(handler_input).was_reset and any(
            is_intent_name(name)(handler_input) for name in CONTEXTUAL_INTENTS)

    def handle(self, handler_input: HandlerInput) -> Response:
        log.warning("session state was unreadable; starting fresh")
        return respond(handler_input, menu.reset_notice(get_state(handler_input)))


class TopicIntentHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("TopicIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        topic = slot_values(handler_input).get("topic")
        reply = _answers().answer_spoken_topic(
            get_state(handler_input), topic.id if topic else None, topic.raw if topic else None,
            _user_tag(handler_input))
        return respond(handler_input, reply)


class QuestionIntentHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("QuestionIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        query = slot_values(handler_input).get("query")
        reply = _answers().answer_question(get_state(handler_input), query.raw if query else None,
                                           _user_tag(handler_input))
        return respond(handler_input, reply)


def _user_tag(handler_input: HandlerInput) -> str:
    """The hashed short user tag (never the real id) for the unanswered-question log."""
    from ask_sdk_core.utils import get_user_id

    from skill.alexa.interceptors import short_user

    try:
        return short_user(get_user_id(handler_input))
    except AttributeError:  # a tampered envelope without context or user
        return "-"


class TellMeMoreIntentHandler(AbstractRequestHandler):
    """"Tell me more", and Alexa's own "keep going"/"next" (Resume/Next intents) when no
    stretch or doctor check has claimed them: in a conversation they mean the same."""

    INTENTS = ("TellMeMoreIntent", "AMAZON.ResumeIntent", "AMAZON.NextIntent")

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return any(is_intent_name(name)(handler_input) for name in self.INTENTS)

    def handle(self, handler_input: HandlerInput) -> Response:
        return respond(handler_input, _answers().tell_more(get_state(handler_input)))


class YesIntentHandler(AbstractRequestHandler):
    """"Yes" accepts whatever the last question offered (kept in `state.pending`)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.YesIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        state = get_state(handler_input)
        if state.pending == "more" or (state.pending or "").startswith("topic:"):
            return respond(handler_input, _answers().tell_more(state))
        return respond(handler_input, menu.nothing_pending(state))


class StateReplyHandler(AbstractRequestHandler):
    """An intent answered by one dialog function of the state alone (a table row below):
    `skill.dialog.<module>.<function>(state) -> Reply`, the module imported on first use."""

    def __init__(self, intents: tuple[str, ...], module: str, function: str):
        self.intents = intents
        self.module = module
        self.function = function

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return any(is_intent_name(name)(handler_input) for name in self.intents)

    def handle(self, handler_input: HandlerInput) -> Response:
        reply_for = getattr(importlib.import_module(f"skill.dialog.{self.module}"), self.function)
        return respond(handler_input, reply_for(get_state(handler_input)))


# intents -> (dialog module, function) when no feature (safety, doctor check, stretch) has
# claimed the request first.
STATE_REPLIES = (
    (("WhyLegFallsAsleepIntent",), "answers", "explain_why"),
    (("AMAZON.NoIntent",), "menu", "after_no"),
    (("AMAZON.HelpIntent",), "menu", "help_for"),
    (("AMAZON.RepeatIntent",), "menu", "repeat"),
    (("AMAZON.StartOverIntent",), "menu", "start_over"),
    (("AMAZON.NavigateHomeIntent",), "menu", "home"),
    (("AMAZON.CancelIntent", "AMAZON.StopIntent"), "menu", "goodbye"),
    (("AMAZON.FallbackIntent",), "menu", "fallback"),
)


class SessionEndedRequestHandler(AbstractRequestHandler):
    """No speech is allowed here; log why the session ended (errors carry a reason)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("SessionEndedRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        request = handler_input.request_envelope.request
        reason = getattr(getattr(request, "reason", None), "value", None)
        error = getattr(request, "error", None)
        log.info("session ended: reason=%s error=%s", reason,
                 getattr(getattr(error, "object_type", None), "value", None) if error else None)
        return handler_input.response_builder.response


class UnhandledIntentHandler(AbstractRequestHandler):
    """Any intent nothing else claimed (an old model, a mistyped test): still be helpful."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("IntentRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        return respond(handler_input, menu.fallback(get_state(handler_input)))


class UnhandledRequestHandler(AbstractRequestHandler):
    """Request types we do not use (APL user events, system notices): a valid empty reply."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return True

    def handle(self, handler_input: HandlerInput) -> Response:
        log.info("unhandled request type %s", type(handler_input.request_envelope.request).__name__)
        return handler_input.response_builder.response


class CatchAllExceptionHandler(AbstractExceptionHandler):
    """Whatever went wrong, the user hears something useful and can carry on."""

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return True

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        log.exception("request failed: %s", exception)
        reply = menu.error()
        builder = handler_input.response_builder
        builder.speak(f"<speak>{reply.speech}</speak>").ask(f"<speak>{reply.reprompt}</speak>")
        return builder.response


CORE_HANDLERS = (
    LaunchRequestHandler(),
    StaleStateHandler(),
    TopicIntentHandler(),
    QuestionIntentHandler(),
    TellMeMoreIntentHandler(),
    YesIntentHandler(),
    *(StateReplyHandler(intents, module, function)
      for intents, module, function in STATE_REPLIES),
    SessionEndedRequestHandler(),
)

# Always first: words that mean something else where the user is (after red-flag triage).
FIRST_HANDLERS = (ReinterpretHandler(),)

# Always last: they claim whatever nobody else did.
CATCH_ALL_HANDLERS = (UnhandledIntentHandler(), UnhandledRequestHandler())
