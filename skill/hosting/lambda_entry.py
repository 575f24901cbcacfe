"""The AWS Lambda entry point, built once per container so warm requests skip set-up.

With no configuration at all the handler works: no table means session-only memory, no
SKILL_ID means every request is accepted (local use). In production set SKILL_ID so that
requests for any other skill are rejected, and SKILL_TABLE for memory across sessions.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from ask_sdk_core.exceptions import AskSdkException

from skill.alexa.builder import build_skill
from skill.alexa.context import own_session_attributes
from skill.hosting import raw_envelope

log = logging.getLogger("skill")

FALLBACK_RESPONSE = {
    "version": "1.0",
    "response": {
        "outputSpeech": {
            "type": "SSML",
            "ssml": "<speak>Sorry, I couldn't understand that request. Please try again.</speak>",
        },
        "shouldEndSession": True,
    },
}


def _configure_logging() -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.getLogger("skill").setLevel(getattr(logging, level, logging.INFO))
    if not logging.getLogger().handlers:  # Lambda installs its own handler; locally add one
        logging.basicConfig(format="%(levelname)s %(name)s %(message)s")


STORE_ENVS = ("SKILL_TABLE", "SKILL_SQLITE_PATH")


def _persistence_adapter():
    """DynamoDB when a table is configured (SQLite when a file is, for local runs);
    otherwise session-only memory.

    The persistence module (and boto3 behind it) is imported only when a store is set, so
    a Lambda without one does not pay for it at cold start.
    """
    if not any(os.environ.get(name) for name in STORE_ENVS):
        return None
    from skill.hosting.persistence import make_persistence_adapter

    return make_persistence_adapter(os.environ)


_configure_logging()
_skill_id = os.environ.get("SKILL_ID") or None
_skill = build_skill(persistence_adapter=_persistence_adapter(), skill_id=_skill_id)


class RequestForAnotherSkill(AskSdkException):
    """The envelope does not name this skill (SKILL_ID): Lambda reports an error, as the
    ASK SDK does for a wrong skill id, and the skill never runs."""


def lambda_handler(event: Any, context: Any) -> dict:
    """Alexa request envelope (a dict) in, response envelope (a dict) out.

    Whatever happens inside -- an envelope the SDK cannot read, a handler or the catch-all
    exception handler failing, serialisation failing -- the caller gets a spoken answer;
    the only exception that leaves is the rejection of a request for another skill.
    """
    if _skill_id and not raw_envelope.addressed_to(event, _skill_id):
        log.warning("rejected a request that does not name this skill")
        raise RequestForAnotherSkill("Skill ID Verification failed: request is not for "
                                     "this skill")
    try:
        return _answer(event, context)
    except Exception:
        log.exception("skill failed outside its handlers")
        return FALLBACK_RESPONSE


def _answer(event: Any, context: Any) -> dict:
    envelope = raw_envelope.deserialize(_skill.serializer, event)
    if envelope is None or envelope.request is None:
        fallback = raw_envelope.red_flag_reply(event)
        if fallback is None:
            log.warning("event is not a readable Alexa request envelope")
        return fallback or FALLBACK_RESPONSE
    response = _skill.invoke(request_envelope=envelope, context=context)
    if response.session_attributes is not None:  # also when a handler failed
        response.session_attributes = own_session_attributes(response.session_attributes)
    return _skill.serializer.serialize(response)
