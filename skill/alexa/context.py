"""What every handler needs from a request, in one place, so handlers stay a few lines long.

The session's memory (`SessionState`) is read once per request by an interceptor and kept
in the request attributes; `respond` renders a dialog `Reply` -- speech, reprompt, a card
that always ends with the disclaimer, and a screen (APL) on devices that have one --
remembers it for "repeat" (as plain strings, never ASK objects) and writes the state back.

Long-term memory goes through the persistence adapter the skill was built with, handed to
each request by `attach_store` (no reaching into the SDK's attributes manager), so that a
store that fails or is slow costs one turn its long-term memory, never the answer.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import request_util
from ask_sdk_model import Response
from ask_sdk_model.ui import SimpleCard

from skill.dialog import prompts, ssml
from skill.dialog.reply import Reply
from skill.dialog.state import ATTRIBUTE_KEY, SessionState

log = logging.getLogger(__name__)

STATE = "state"
PERSISTENT_DIRTY = "persistent_dirty"
STORE = "memory_store"
LOADED_PERSISTENT = "persistent_attributes"
SESSION_ONLY = "memory_session_only"
SESSION_PERSISTENT_KEY = "persistent"
#: What the skill keeps in the session; anything else a request carries is not echoed back.
OWNED_SESSION_KEYS = (ATTRIBUTE_KEY, SESSION_PERSISTENT_KEY)
#: Far above what the skill writes (~2 KB), far below Alexa's 24 KB response limit.
MAX_SESSION_BYTES = 12 * 1024
#: A store read slower than this makes the turn session-only (no write after it), so a
#: turn stays well inside Alexa's 8 s whatever the store does.
SLOW_STORE_SECONDS = 1.0
DEFAULT_LOCALE = "en-US"
APL_INTERFACE = "Alexa.Presentation.APL"


@dataclass(frozen=True)
class SlotValue:
    """A slot as the dialog layer wants it: what was heard, and what it resolved to."""

    raw: str | None
    id: str | None = None
    name: str | None = None


def get_state(handler_input: HandlerInput) -> SessionState:
    attrs = handler_input.attributes_manager.request_attributes
    state = attrs.get(STATE)
    if state is None:
        state = SessionState.from_attributes(_session_attributes(handler_input))
        attrs[STATE] = state
    return state


def _session_attributes(handler_input: HandlerInput) -> dict:
    if handler_input.request_envelope.session is None:
        return {}
    try:
        attributes = handler_input.attributes_manager.session_attributes
    except Exception:  # an out-of-session request has none
        return {}
    return attributes if isinstance(attributes, dict) else {}


def locale(handler_input: HandlerInput) -> str:
    value = request_util.get_locale(handler_input)
    return value if isinstance(value, str) and value else DEFAULT_LOCALE


def slot_values(handler_input: HandlerInput) -> dict[str, SlotValue]:
    """Every slot of an IntentRequest, with Alexa's entity resolution when it matched."""
    intent = getattr(handler_input.request_envelope.request, "intent", None)
    slots = getattr(intent, "slots", None) or {}
    values: dict[str, SlotValue] = {}
    for name, slot in slots.items():
        if slot is None:
            continue
        raw = slot.value if isinstance(slot.value, str) else None
        resolved_id = resolved_name = None
        try:
            authorities = slot.resolutions.resolutions_per_authority or []
        except AttributeError:
            authorities = []
        for authority in authorities:
            code = getattr(getattr(authority.status, "code", None), "value", None)
            if code == "ER_SUCCESS_MATCH" and authority.values:
                value = authority.values[0].value
                resolved_id, resolved_name = value.id, value.name
                break
        values[name] = SlotValue(raw=raw, id=resolved_id, name=resolved_name)
    return values


def has_screen(handler_input: HandlerInput) -> bool:
    try:
        supported = request_util.get_supported_interfaces(handler_input)
    except AttributeError:  # no context or device: a tampered or test envelope
        return False
    if supported is None:
        return False
    return getattr(supported, "alexa_presentation_apl", None) is not None


def attach_store(handler_input: HandlerInput, store: Any) -> None:
    """Give this request the long-term store (an ASK `AbstractPersistenceAdapter`)."""
    if store is not None:
        handler_input.attributes_manager.request_attributes[STORE] = store


def persistent(handler_input: HandlerInput) -> dict:
    """Long-term memory: the store's when it answers, else the session's.

    With no store (Lambda without a table), or a store that fails or is slow this turn,
    the skill keeps working; it only forgets between sessions.
    """
    attrs = handler_input.attributes_manager.request_attributes
    loaded = attrs.get(LOADED_PERSISTENT)
    if loaded is not None:
        return loaded
    store = attrs.get(STORE)
    if store is not None:
        started = time.monotonic()
        try:
            loaded = store.get_attributes(handler_input.request_envelope)
        except Exception as error:  # any failure of any store: degrade, never fail
            log.warning("long-term memory unavailable, session-only this turn: %s", error)
            attrs[SESSION_ONLY] = True
        else:
            if time.monotonic() - started > SLOW_STORE_SECONDS:
                log.warning("long-term memory slow (%.1f s); not writing it this turn",
                            time.monotonic() - started)
                attrs[SESSION_ONLY] = True
            attrs[LOADED_PERSISTENT] = loaded if isinstance(loaded, dict) else {}
            return attrs[LOADED_PERSISTENT]
    session = _session_attributes(handler_input)
    stored = session.get(SESSION_PERSISTENT_KEY)
    if not isinstance(stored, dict):
        stored = {}
        if handler_input.request_envelope.session is not None:
            session[SESSION_PERSISTENT_KEY] = stored
            handler_input.attributes_manager.session_attributes = session
    attrs[LOADED_PERSISTENT] = stored
    return stored


def save_pending_persistent(handler_input: HandlerInput) -> None:
    """Write long-term memory if a handler changed it and the store is usable this turn.

    A failed write is logged, not raised: the user still hears the answer, and the worst
    case is that a stretch position is forgotten.
    """
    attrs = handler_input.attributes_manager.request_attributes
    store = attrs.get(STORE)
    if not attrs.get(PERSISTENT_DIRTY) or store is None or attrs.get(SESSION_ONLY):
        return
    try:
        store.save_attributes(handler_input.request_envelope, attrs[LOADED_PERSISTENT])
    except Exception as error:
        log.warning("could not save long-term memory: %s", error)


def keep_own_session_attributes(handler_input: HandlerInput) -> None:
    """Send back only the session attributes the skill owns, and only a bounded amount:
    an attribute we never wrote must not ride along in every response."""
    if handler_input.request_envelope.session is None:
        return
    session = _session_attributes(handler_input)
    kept = own_session_attributes(session)
    if kept != session:
        handler_input.attributes_manager.session_attributes = kept


def own_session_attributes(attributes: Any) -> dict:
    """The owned part of `attributes`, or a fresh state if even that is oversized. The
    hosting layer applies it to every response too, since response interceptors do not
    run when a handler fails."""
    if not isinstance(attributes, dict):
        return {}
    kept = {key: attributes[key] for key in OWNED_SESSION_KEYS if key in attributes}
    if _too_big(kept):
        log.warning("session attributes over %d bytes; starting them afresh",
                    MAX_SESSION_BYTES)
        kept = {ATTRIBUTE_KEY: SessionState().to_attributes()}
    return kept


def _too_big(attributes: dict) -> bool:
    try:
        return len(json.dumps(attributes, separators=(",", ":"))) > MAX_SESSION_BYTES
    except (TypeError, ValueError):
        return True


def save_persistent(handler_input: HandlerInput) -> None:
    """Mark long-term memory as changed; the response interceptor writes it once."""
    handler_input.attributes_manager.request_attributes[PERSISTENT_DIRTY] = True


def respond(handler_input: HandlerInput, reply: Reply, *, remember: bool = True) -> Response:
    """Render `reply` as the response, and store the session state (and the reply for repeat)."""
    state = get_state(handler_input)
    if remember:
        state.remember_reply(reply.speech, reply.reprompt, reply.card_title, reply.card_text)
    builder = handler_input.response_builder
    builder.speak(ssml.wrap(reply.speech))
    if reply.card_title or reply.card_text:
        builder.set_card(SimpleCard(title=reply.card_title or "Pins and Needles",
                                    content=with_footer(reply.card_text
                                                        or ssml.to_plain_text(reply.speech))))
    if has_screen(handler_input):
        from skill.alexa import apl  # only devices with screens pay for it

        builder.add_directive(apl.render_directive(reply))
    if reply.end_session:
        builder.set_should_end_session(True)
    else:
        builder.ask(ssml.wrap(reply.reprompt))
    _store_state(handler_input, state)
    return builder.response


def with_footer(card_text: str) -> str:
    """The card text ending with the disclaimer: every card carries it, whoever wrote it."""
    footer = prompts.text("card_footer")
    return card_text if card_text.rstrip().endswith(footer) else f"{card_text}\n\n{footer}"


def _store_state(handler_input: HandlerInput, state: SessionState) -> None:
    if handler_input.request_envelope.session is None:
        return
    session = _session_attributes(handler_input)
    session[ATTRIBUTE_KEY] = state.to_attributes()
    handler_input.attributes_manager.session_attributes = session
