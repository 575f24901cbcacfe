"""Read raw request envelopes (JSON dicts) where the SDK's model cannot, or before it runs.

Why: ask-sdk-model refuses a whole envelope when one member is unknown to it, and Amazon
adds enum values over time.

Examples: a slot resolution status `ER_NEW_CODE`, an intent `confirmationStatus` or a
`dialogState` it has no value for, `session.attributes` that is not an object. Refusing
would hide what the user said, red flags included. So, when the SDK's deserialiser fails:

1. `repaired(event)` walks the raw JSON guided by the model's own public type metadata
   (`deserialized_types`, `attribute_map`, `get_real_child_model`, `Enum`) and drops just
   the members that cannot be read (an unknown enum value becomes "absent", a non-object
   where an object belongs becomes empty). The rest deserialises as usual and the skill
   answers the request normally -- red-flag triage included.
2. If even that fails, `red_flag_reply(event)` triages the raw slot values itself
   (`triage.assess_all`) so a red flag still gets its guidance.

`addressed_to(event, skill_id)` checks the application id on the raw JSON, so an envelope
without `context.System.application` is refused cleanly rather than crashing the SDK.
"""

from __future__ import annotations

import enum
import functools
import importlib
import json
import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

_NATIVE = {"str": str, "int": int, "float": float, "bool": bool, "object": object,
           "long": int}
_DROP = object()


@functools.cache
def _model_class(name: str) -> Any:
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def _prune(payload: Any, type_name: Any) -> Any:
    """`payload` as the model can read it as `type_name`, or `_DROP` when it cannot."""
    if payload is None:
        return None
    if isinstance(type_name, str):
        if type_name.startswith("list["):
            if not isinstance(payload, list):
                return []
            inner = type_name[5:-1].strip()
            items = (_prune(item, inner) for item in payload)
            return [item for item in items if item is not _DROP]
        if type_name.startswith("dict("):
            if not isinstance(payload, dict):
                return {}
            inner = type_name[5:-1].split(",", 1)[1].strip()
            pruned = {key: _prune(value, inner) for key, value in payload.items()}
            return {key: value for key, value in pruned.items() if value is not _DROP}
        if type_name in ("date", "datetime"):
            return payload if isinstance(payload, str) and _parses_as_time(payload) else _DROP
        if type_name in _NATIVE:
            return _primitive(payload, _NATIVE[type_name])
        try:
            type_name = _model_class(type_name)
        except (ImportError, AttributeError, ValueError):
            return payload
    return _prune_model(payload, type_name)


def _primitive(payload: Any, kind: type) -> Any:
    if kind is object or isinstance(payload, kind):
        return payload
    if isinstance(payload, (dict, list)):
        return _DROP
    try:
        kind(payload)
    except (TypeError, ValueError):
        return _DROP
    return payload


def _parses_as_time(text: str) -> bool:
    from dateutil.parser import parse  # what the SDK's serializer uses

    try:
        parse(text)
    except (ValueError, OverflowError):
        return False
    return True


def _prune_model(payload: Any, cls: Any) -> Any:
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        return payload if payload in {member.value for member in cls} else _DROP
    types = getattr(cls, "deserialized_types", None)
    if types is None:
        return payload
    if not isinstance(payload, dict):
        return _DROP
    if hasattr(cls, "get_real_child_model"):
        child = cls.get_real_child_model(payload)
        if not child:
            return _DROP
        cls = _model_class(child)
        types = cls.deserialized_types
    attribute_map = getattr(cls, "attribute_map", {})
    known = {attribute_map.get(name, name): kind for name, kind in types.items()}
    out = {}
    for key, value in payload.items():
        if key in known:
            value = _prune(value, known[key])
            if value is _DROP:
                continue
        out[key] = value
    return out


def repaired(event: Mapping[str, Any]) -> dict | None:
    """A copy of `event` without the members ask-sdk-model cannot read (None if hopeless)."""
    try:
        result = _prune_model(event, _model_class("ask_sdk_model.request_envelope.RequestEnvelope"))
    except Exception:  # a walker bug must not cost the request: the raw triage still runs
        log.exception("envelope repair failed")
        return None
    return None if result is _DROP else result


def deserialize(serializer: Any, event: Any, text: str | None = None) -> Any:
    """The SDK's `RequestEnvelope` for `event` (`text`: its JSON, when already at hand).

    If the SDK cannot read it (an enum value newer than the SDK, an odd member): the same
    envelope without the members it cannot read -- unless that would drop words the user
    said, which are then left to `red_flag_reply`. None when there is nothing to read.
    """
    from ask_sdk_model import RequestEnvelope

    try:
        return serializer.deserialize(payload=text if text is not None else json.dumps(event),
                                      obj_type=RequestEnvelope)
    except Exception:
        if not isinstance(event, dict):
            return None
    fixed = repaired(event)
    if fixed is None or raw_slot_texts(fixed) != raw_slot_texts(event):
        return None
    try:
        envelope = serializer.deserialize(payload=json.dumps(fixed), obj_type=RequestEnvelope)
    except Exception:
        log.warning("event is not an Alexa request envelope, even repaired")
        return None
    log.warning("read an envelope with members the SDK does not know (dropped them)")
    return envelope


def raw_slot_texts(event: Any) -> tuple[str | None, list[str]]:
    """(intent name, every slot value heard) read straight from the raw JSON."""
    request = event.get("request") if isinstance(event, Mapping) else None
    intent = request.get("intent") if isinstance(request, Mapping) else None
    if not isinstance(intent, Mapping):
        return None, []
    name = intent.get("name") if isinstance(intent.get("name"), str) else None
    slots = intent.get("slots")
    values = slots.values() if isinstance(slots, Mapping) else slots if isinstance(
        slots, list) else ()
    texts = []
    for slot in values:
        value = slot.get("value") if isinstance(slot, Mapping) else None
        if isinstance(value, str) and value.strip() and value not in texts:
            texts.append(value[:2000])
    return name, texts


def red_flag_reply(event: Any) -> dict | None:
    """The guidance response for a red flag in the raw slot values, else None."""
    intent, texts = raw_slot_texts(event)
    if not texts:
        return None
    from skill.dialog import guidance, ssml, triage

    assessment = triage.assess_all(texts, question=triage.question_hint(intent))
    level = triage.preempting_level(assessment, intent)
    if level == triage.NONE:
        return None
    request = event.get("request") if isinstance(event, Mapping) else {}
    reply = guidance.reply_for(level, request.get("locale") if isinstance(
        request.get("locale"), str) else None, assessment.primary)
    log.warning("answered a red flag from an unreadable envelope: level=%s", level)
    response: dict[str, Any] = {
        "outputSpeech": {"type": "SSML", "ssml": ssml.wrap(reply.speech)},
        "card": {"type": "Simple", "title": reply.card_title or "Pins and Needles",
                 "content": reply.card_text or ssml.to_plain_text(reply.speech)},
        "shouldEndSession": reply.end_session,
    }
    if not reply.end_session:
        response["reprompt"] = {"outputSpeech": {"type": "SSML",
                                                 "ssml": ssml.wrap(reply.reprompt)}}
    return {"version": "1.0", "response": response}


def application_ids(envelope: Mapping[str, Any]) -> list[Any]:
    """Every applicationId the envelope states (context.System and session)."""
    found = []
    ctx = envelope.get("context") if isinstance(envelope, Mapping) else None
    system = ctx.get("System") if isinstance(ctx, Mapping) else None
    for holder in (system, envelope.get("session") if isinstance(envelope, Mapping) else None):
        app = holder.get("application") if isinstance(holder, Mapping) else None
        if isinstance(app, Mapping) and "applicationId" in app:
            found.append(app["applicationId"])
    return found


def addressed_to(envelope: Any, skill_id: str) -> bool:
    """True when `context.System.application` names `skill_id`, and the session (if it
    names one) agrees. Amazon always sends the context; the SDK reads the id there."""
    ids = application_ids(envelope)
    ctx = envelope.get("context") if isinstance(envelope, Mapping) else None
    system = ctx.get("System") if isinstance(ctx, Mapping) else None
    app = system.get("application") if isinstance(system, Mapping) else None
    return (isinstance(app, Mapping) and app.get("applicationId") == skill_id
            and all(found == skill_id for found in ids))
