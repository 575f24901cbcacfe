"""Movement reminders, one request at a time: permission, the API, and the reply.

The handlers in `reminder_handlers.py` only recognise requests; this module (imported on
the first reminder request, not on a cold start) does the work:
- the schedule asked for comes from `skill.dialog.reminders.understand`;
- without the reminders permission (no consent in `context.System.user.permissions`) it asks
  by voice with a `Connections.SendRequest` "AskFor" directive and keeps the schedule in
  long-term memory; Alexa's `Connections.Response` then creates it (accepted), says so
  (denied), or sends an `AskForPermissionsConsent` card and says so (not answered, or a
  device that could not ask -- remembered, so that device gets the card from then on);
- with it, `reminder_api.ReminderApi` lists what exists, and only what is missing is
  created (`reminders.plan`), so nothing is created twice; a request Alexa sends again with
  the same requestId is answered from memory without calling the API;
- every failure is spoken (`reminders.error`), never thrown.
"""

from __future__ import annotations

import logging

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from skill.alexa import reminder_api
from skill.alexa.context import persistent, respond, save_persistent, slot_values
from skill.dialog import reminders

log = logging.getLogger(__name__)

PERMISSION_SCOPE = "alexa::alerts:reminders:skill:readwrite"
ASK_FOR_TOKEN = "movement_reminders"


# --------------------------------------------------------------------------- request facts

def has_permission(handler_input: HandlerInput) -> bool:
    """The person granted the skill permissions (Alexa then puts a consent token here)."""
    permissions = getattr(getattr(reminder_api.system(handler_input), "user", None), "permissions", None)
    return bool(getattr(permissions, "consent_token", None))


def _one_shot(handler_input: HandlerInput) -> bool:
    session = handler_input.request_envelope.session
    return session is None or bool(session.new)


def _request_id(handler_input: HandlerInput) -> str | None:
    value = getattr(handler_input.request_envelope.request, "request_id", None)
    return value if isinstance(value, str) and value else None


def _memory(handler_input: HandlerInput) -> dict:
    """Our slice of long-term memory: the last schedule, a pending one, answered requests."""
    memory = persistent(handler_input)
    key = reminders.PERSISTENT_KEY
    if not isinstance(memory.get(key), dict):
        memory[key] = {}
    return memory[key]


# ------------------------------------------------------------------------------- replying

def _respond(handler_input: HandlerInput, reply, *, remember_as: str | None = None) -> Response:
    """Speak `reply`; remember it under this requestId when it answered a change."""
    if remember_as:
        slice_ = _memory(handler_input)
        slice_["answered"] = {"request_id": remember_as, "speech": reply.speech,
                              "reprompt": reply.reprompt, "card_text": reply.card_text,
                              "end_session": reply.end_session}
        save_persistent(handler_input)
    return respond(handler_input, reply)


def _replayed(handler_input: HandlerInput) -> Response | None:
    """The same request again (same requestId): the same answer, no second API call."""
    request_id = _request_id(handler_input)
    answered = _memory(handler_input).get("answered")
    if not request_id or not isinstance(answered, dict) or answered.get("request_id") != request_id:
        return None
    from skill.dialog.reply import Reply

    try:
        reply = Reply(speech=answered["speech"], reprompt=answered.get("reprompt"),
                      card_title=reminders.prompt("card_title"),
                      card_text=answered.get("card_text"),
                      end_session=bool(answered.get("end_session")))
    except (KeyError, TypeError, ValueError):
        return None
    log.info("request %s seen before; answering from memory", request_id[-12:])
    return respond(handler_input, reply)


def _permission_card(handler_input: HandlerInput, key: str, one_shot: bool) -> Response:
    from ask_sdk_model.ui import AskForPermissionsConsentCard

    handler_input.response_builder.set_card(
        AskForPermissionsConsentCard(permissions=[PERMISSION_SCOPE]))
    reply = reminders.said(key, one_shot)
    return respond(handler_input, _without_card(reply))


def _without_card(reply):
    """The same reply with no simple card (the consent card takes its place)."""
    from dataclasses import replace

    return replace(reply, card_title=None, card_text=None)


def _ask_permission(handler_input: HandlerInput, one_shot: bool) -> Response:
    """Ask by voice where the device can; otherwise the consent card."""
    memory = _memory(handler_input)
    device = reminder_api.device_id(handler_input)
    voice_failed = memory.get("voice_ask_failed")
    if not device or (isinstance(voice_failed, list) and device in voice_failed):
        return _permission_card(handler_input, "permission_card", one_shot)
    from ask_sdk_model.interfaces.connections import SendRequestDirective

    handler_input.response_builder.add_directive(SendRequestDirective(
        name="AskFor", token=ASK_FOR_TOKEN,
        payload={"@type": "AskForPermissionsConsentRequest", "@version": "1",
                 "permissionScope": PERMISSION_SCOPE}))
    reply = reminders.said("ask_permission", one_shot, end=True)
    return respond(handler_input, _without_card(reply))


def _apply(handler_input: HandlerInput, request, one_shot: bool) -> Response:
    """Make the API hold exactly `request.schedule`; confirm it, or say what went wrong."""
    try:
        api = reminder_api.ReminderApi(handler_input, reminder_api.CallBudget())
        existing = api.existing()
        todo = reminders.plan(existing, request.schedule.reminders())
        zone = api.time_zone() if todo.create else None
        for spec in todo.create:
            api.create(spec, zone)
        for alert_token in todo.delete:
            api.delete(alert_token)
    except reminder_api.ApiFailure as failure:
        log.warning("setting reminders failed: %s", failure)
        return _failed(handler_input, failure, one_shot)
    memory = _memory(handler_input)
    memory["settings"] = request.schedule.to_dict()
    memory.pop("pending", None)
    save_persistent(handler_input)
    return _respond(handler_input, reminders.confirmation(request, todo, one_shot),
                    remember_as=_request_id(handler_input))


def _failed(handler_input: HandlerInput, failure, one_shot: bool) -> Response:
    if failure.kind == "permission":
        return _permission_card(handler_input, "error_permission", one_shot)
    return respond(handler_input, reminders.error(failure.kind, one_shot))


def _pending_request(handler_input: HandlerInput):
    memory = _memory(handler_input)
    pending = memory.get("pending")
    if isinstance(pending, dict):
        schedule = reminders.Schedule.from_dict(pending.get("schedule"))
        if schedule is not None:
            asked = pending.get("asked")
            return reminders.Request(schedule, asked if isinstance(asked, int) else None,
                                     bool(pending.get("window_kept")))
    return reminders.understand(saved=memory.get("settings"))


# ------------------------------------------------------------------ one function per request

def _slot_text(slots, name: str) -> str | None:
    value = slots.get(name)
    if value is None:
        return None
    return value.id or value.raw


def set_reminders(handler_input: HandlerInput) -> Response:
    """"Remind me to get up every 45 minutes from 8 to 4": set (or change) the schedule."""
    replay = _replayed(handler_input)
    if replay is not None:
        return replay
    slots = slot_values(handler_input)
    memory = _memory(handler_input)
    request = reminders.understand(
        interval=_slot_text(slots, "interval"), start=_slot_text(slots, "start"),
        end=_slot_text(slots, "end"), days=_slot_text(slots, "days"),
        saved=memory.get("settings"))
    one_shot = _one_shot(handler_input)
    if not has_permission(handler_input):
        memory["pending"] = {"schedule": request.schedule.to_dict(),
                             "asked": request.asked_minutes,
                             "window_kept": request.window_kept}
        save_persistent(handler_input)
        return _ask_permission(handler_input, one_shot)
    return _apply(handler_input, request, one_shot)


def list_reminders(handler_input: HandlerInput) -> Response:
    """"What reminders do I have": read them back from the API (the truth), not memory."""
    one_shot = _one_shot(handler_input)
    if not has_permission(handler_input):
        return _permission_card(handler_input, "no_permission_to_read", one_shot)
    try:
        existing = reminder_api.ReminderApi(handler_input, reminder_api.CallBudget()).existing()
    except reminder_api.ApiFailure as failure:
        return _failed(handler_input, failure, one_shot)
    return respond(handler_input, reminders.listing(existing, one_shot))


def stop_reminders(handler_input: HandlerInput) -> Response:
    """"Stop my movement reminders": delete every active one (a retry finds none left)."""
    replay = _replayed(handler_input)
    if replay is not None:
        return replay
    one_shot = _one_shot(handler_input)
    if not has_permission(handler_input):
        return _permission_card(handler_input, "no_permission_to_read", one_shot)
    try:
        api = reminder_api.ReminderApi(handler_input, reminder_api.CallBudget())
        targets = [r.token for r in reminders.active(api.existing())]
        for alert_token in targets:
            api.delete(alert_token)
    except reminder_api.ApiFailure as failure:
        return _failed(handler_input, failure, one_shot)
    _memory(handler_input).pop("pending", None)
    save_persistent(handler_input)
    return _respond(handler_input, reminders.stopped(len(targets), one_shot),
                    remember_as=_request_id(handler_input))


def permission_answer(handler_input: HandlerInput) -> Response:
    """Alexa's `Connections.Response` to our "AskFor": accepted, denied, or not answered."""
    request = handler_input.request_envelope.request
    code = str(getattr(getattr(request, "status", None), "code", "") or "")
    payload = request.payload if isinstance(request.payload, dict) else {}
    answer = payload.get("status")
    if not code.startswith("2"):
        device = reminder_api.device_id(handler_input)
        memory = _memory(handler_input)
        failed = memory.get("voice_ask_failed")
        failed = failed if isinstance(failed, list) else []
        if device and device not in failed:
            memory["voice_ask_failed"] = (failed + [device])[-10:]
            save_persistent(handler_input)
        return _permission_card(handler_input, "permission_card_voice_failed", True)
    if answer == "ACCEPTED":
        replay = _replayed(handler_input)
        return replay or _apply(handler_input, _pending_request(handler_input), True)
    if answer == "DENIED":
        _memory(handler_input).pop("pending", None)
        save_persistent(handler_input)
        return respond(handler_input, reminders.said("permission_denied", True))
    return _permission_card(handler_input, "permission_card", True)
