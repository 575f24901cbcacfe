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
from ask_sdk_model import RequestEnvelope

from skill.alexa.builder import build_skill

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
_skill = build_skill(persistence_adapter=_persistence_adapter())


def lambda_handler(event: Any, context: Any) -> dict:
    """Alexa request envelope (a dict) in, response envelope (a dict) out."""
    try:
        envelope = _skill.serializer.deserialize(payload=json.dumps(event),
                                                 obj_type=RequestEnvelope)
    except Exception:
        log.warning("event is not an Alexa request envelope")
        return FALLBACK_RESPONSE
    if envelope is None or envelope.request is None:
        log.warning("event has no request")
        return FALLBACK_RESPONSE
    try:
        response = _skill.invoke(request_envelope=envelope, context=context)
    except AskSdkException as error:
        if "Skill ID Verification" in str(error):
            log.warning("rejected a request for another skill")
            raise
        log.exception("skill failed outside its handlers")
        return FALLBACK_RESPONSE
    return _skill.serializer.serialize(response)
