"""Cross-cutting steps around every handler: a log line in, state loaded, memory saved out."""

from __future__ import annotations

import logging
from typing import Any

from ask_sdk_core.dispatch_components import (
    AbstractRequestInterceptor,
    AbstractResponseInterceptor,
)
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import request_util
from ask_sdk_model import Response

from skill.alexa.context import (
    attach_store,
    get_state,
    keep_own_session_attributes,
    save_pending_persistent,
)

log = logging.getLogger(__name__)


def short_user(user_id: object) -> str:
    """A stable, non-reversible tag for a user id: logs must never hold the real one.
    Anything that is not a non-empty string (a tampered envelope) is "-"."""
    if not isinstance(user_id, str) or not user_id:
        return "-"
    import hashlib  # on first use: OpenSSL's hashlib costs ~2 ms of a cold start

    return hashlib.sha256(user_id.encode("utf-8", "replace")).hexdigest()[:12]


class RequestLogInterceptor(AbstractRequestInterceptor):
    def process(self, handler_input: HandlerInput) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        intent = getattr(getattr(handler_input.request_envelope.request, "intent", None),
                         "name", None)  # get_intent_name refuses CanFulfillIntentRequest
        try:
            user = request_util.get_user_id(handler_input)
        except AttributeError:  # no context.System: nothing to tag
            user = None
        log.info("request type=%s intent=%s locale=%s user=%s",
                 request_util.get_request_type(handler_input), intent,
                 request_util.get_locale(handler_input), short_user(user))


class LoadStateInterceptor(AbstractRequestInterceptor):
    """Read and validate the session memory once, before any handler looks at it."""

    def process(self, handler_input: HandlerInput) -> None:
        state = get_state(handler_input)
        if state.was_reset:
            log.warning("discarded unreadable session attributes")


class MemoryStoreInterceptor(AbstractRequestInterceptor):
    """Hand each request the long-term store the skill was built with (None: no store)."""

    def __init__(self, store: Any = None) -> None:
        self.store = store

    def process(self, handler_input: HandlerInput) -> None:
        attach_store(handler_input, self.store)


class SavePersistentInterceptor(AbstractResponseInterceptor):
    """Write long-term memory once per request, and only when a handler changed it."""

    def process(self, handler_input: HandlerInput, response: Response) -> None:
        save_pending_persistent(handler_input)


class OwnSessionAttributesInterceptor(AbstractResponseInterceptor):
    """Echo back only the session attributes the skill owns (Alexa caps responses at 24 KB)."""

    def process(self, handler_input: HandlerInput, response: Response) -> None:
        keep_own_session_attributes(handler_input)
