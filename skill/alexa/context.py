"""What every handler needs from a request, in one place, so handlers stay a few lines long.

The session's memory (`SessionState`) is read once per request by an interceptor and kept
in the request attributes; `respond` renders a dialog `Reply` -- speech, reprompt, a card
that always ends with the disclaimer, and a screen (APL) on devices that have one --
remembers it for "repeat" (as plain strings, never ASK objects) and writes the state back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response
from ask_sdk_model.ui import SimpleCard

from skill.dialog import prompts, ssml
from skill.dialog.reply import Reply
from skill.dialog.state import ATTRIBUTE_KEY, SessionState

log = logging.getLogger(__name__)

STATE = "state"
PERSISTENT_DIRTY = "persistent_dirty"
SESSION_PERSISTENT_KEY = "persistent"
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
    value = getattr(handler_input.request_envelope.request, "locale", None)
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
        supported = handler_input.request_envelope.context.system.device.supported_interfaces
    except AttributeError:
        return False
    if supported is None:
        return False
    return getattr(supported, "alexa_presentation_apl", None) is not None


def persistent(handler_input: HandlerInput) -> dict:
    """Long-term memory: the persistence adapter's when there is one, else the session's.

    With no adapter configured (Lambda without a table) the skill keeps working; it only
    forgets between sessions.
    """
    manager = handler_input.attributes_manager
    if manager._persistence_adapter is not None:  # the SDK exposes no public check
        try:
            attributes = manager.persistent_attributes
        except Exception:
            log.exception("persistence read failed; continuing with session memory")
        else:
            if not isinstance(attributes, dict):
                attributes = {}
                manager.persistent_attributes = attributes
            return attributes
    session = _session_attributes(handler_input)
    stored = session.get(SESSION_PERSISTENT_KEY)
    if not isinstance(stored, dict):
        stored = {}
        if handler_input.request_envelope.session is not None:
            session[SESSION_PERSISTENT_KEY] = stored
            manager.session_attributes = session
    return stored


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
