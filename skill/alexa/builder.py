"""Assemble the skill: handlers in a deliberate order, interceptors, the exception handler.

Order matters because ask-sdk-core asks handlers in registration order and the first that
can handle a request wins:
0. words that mean something else in this state ("done with that one" mid-stretch), once
   triage has found no red flag in them (`handlers.ReinterpretHandler`);
1. safety  -- red flags preempt everything, in every state;
2. doctor check and 3. stretch routine -- they own the turn while the user is inside them;
4. core answers and built-ins; 5. catch-alls for anything left.
Movement reminders come right after safety: their intents and Alexa's answer to a
permission request (Connections.Response) belong to nobody else, in any state.
"""

from __future__ import annotations

import os

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder

from skill.alexa import (
    can_fulfill,
    doctor_handlers,
    handlers,
    interceptors,
    reminder_handlers,
    routine_handlers,
    safety_handlers,
)


def request_handlers() -> list:
    """Every request handler, in the order they are asked."""
    return [
        can_fulfill.CanFulfillIntentRequestHandler(),  # a query, never a conversation turn
        *handlers.FIRST_HANDLERS,
        *safety_handlers.HANDLERS,
        *reminder_handlers.HANDLERS,
        *doctor_handlers.HANDLERS,
        *routine_handlers.HANDLERS,
        *handlers.CORE_HANDLERS,
        *handlers.CATCH_ALL_HANDLERS,
    ]


def build_skill_builder(persistence_adapter: AbstractPersistenceAdapter | None = None,
                        skill_id: str | None = None, *,
                        request_log: bool = True) -> CustomSkillBuilder:
    """A configured builder. `skill_id` (default: $SKILL_ID) makes the SDK reject requests
    for any other skill; unset, every request is accepted, which is what local use needs.
    `request_log=False` leaves out the skill's own request log line, for a host that logs
    each request itself (the web service's one line per request carries the same fields)."""
    # The adapter stays ours (MemoryStoreInterceptor): the skill reads and writes memory
    # itself, so a failing or slow store degrades one turn instead of failing it.
    builder = CustomSkillBuilder()
    skill_id = skill_id if skill_id is not None else os.environ.get("SKILL_ID") or None
    if skill_id:
        builder.skill_id = skill_id
    for handler in request_handlers():
        builder.add_request_handler(handler)
    builder.add_exception_handler(handlers.CatchAllExceptionHandler())
    if request_log:
        builder.add_global_request_interceptor(interceptors.RequestLogInterceptor())
    builder.add_global_request_interceptor(interceptors.MemoryStoreInterceptor(
        persistence_adapter))
    builder.add_global_request_interceptor(interceptors.LoadStateInterceptor())
    builder.add_global_response_interceptor(interceptors.SavePersistentInterceptor())
    builder.add_global_response_interceptor(interceptors.OwnSessionAttributesInterceptor())
    return builder


def build_skill(persistence_adapter: AbstractPersistenceAdapter | None = None,
                skill_id: str | None = None, *, request_log: bool = True) -> CustomSkill:
    return build_skill_builder(persistence_adapter, skill_id,
                               request_log=request_log).create()
