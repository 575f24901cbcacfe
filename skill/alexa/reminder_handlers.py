"""Movement reminders on Alexa: the Reminders and Settings APIs, permission, and the intents.

"Remind me to get up every hour", "what reminders do I have", "stop my movement
reminders": the dialog layer (`skill.dialog.reminders`) decides the schedule and the
words; this module talks to Alexa's services through the SDK's own clients
(a `ServiceClientFactory` for the request's `apiEndpoint` and `apiAccessToken`, see
`service_clients`: `ReminderManagementServiceClient` for reminders, `UpsServiceClient` for
the device's time zone).

Three things here exist because a voice reply must come within seconds, whatever the
network does:
- `BoundedApiClient` is the skill's API client: ask-sdk-core's `DefaultApiClient` (which
  has no timeout of its own) run in a worker thread that is waited for at most
  `REMINDERS_API_TIMEOUT` seconds per call and never past the request's overall budget
  (`REMINDERS_API_BUDGET`), so a stalled API becomes a spoken "didn't answer in time";
- every failure is an `ApiFailure` with a kind (permission, too_many, unsupported, timeout,
  unknown) that the dialog layer turns into words; nothing is thrown at the user;
- nothing is created twice: every change lists what exists first and creates only what
  is missing (`reminders.plan`), and a request Alexa sends again with the same requestId
  is answered from memory without calling the API.

Permission: when the request carries no consent (`context.System.user.permissions`), the
skill asks by voice with a `Connections.SendRequest` "AskFor" directive, and answers the
`Connections.Response` that follows (accepted: create; denied: say so; not answered or a
device that could not ask: an `AskForPermissionsConsent` card, and say so). A device that
failed a voice request once gets the card straight away afterwards.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import threading
import time

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name, is_request_type
from ask_sdk_model import Response
from ask_sdk_model.services import ApiClient

from skill.alexa.context import locale, persistent, respond, save_persistent, slot_values

log = logging.getLogger(__name__)

PERMISSION_SCOPE = "alexa::alerts:reminders:skill:readwrite"
ASK_FOR_TOKEN = "movement_reminders"
DEFAULT_CALL_TIMEOUT = 1.0  # seconds, per API call
DEFAULT_BUDGET = 2.0  # seconds, all API calls of one request together


def _reminders():
    """`skill.dialog.reminders`, imported on first use (not on a LaunchRequest)."""
    from skill.dialog import reminders

    return reminders


# --------------------------------------------------------------------- bounded API client

def _seconds(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if 0 < value <= 10 else default


class CallBudget:
    """The time one request may spend on API calls, and whether a call ran out of it."""

    def __init__(self, seconds: float | None = None, per_call: float | None = None):
        self.per_call = per_call or _seconds("REMINDERS_API_TIMEOUT", DEFAULT_CALL_TIMEOUT)
        self.deadline = time.monotonic() + (seconds or _seconds("REMINDERS_API_BUDGET",
                                                                 DEFAULT_BUDGET))
        self.timed_out = False

    def next_timeout(self) -> float:
        return min(self.per_call, self.deadline - time.monotonic())


_BUDGET: contextvars.ContextVar[CallBudget | None] = contextvars.ContextVar(
    "reminders_call_budget", default=None)


class BoundedApiClient(ApiClient):
    """ask-sdk-core's `DefaultApiClient`, with a time limit on every call.

    `DefaultApiClient` calls `requests` without a timeout; a slow API would hold the reply
    past the point where Alexa gives up. The call runs in a daemon thread and is abandoned
    (its result ignored) when the budget of the current request runs out. `requests` is
    imported on the first API call, never on a cold start.
    """

    def __init__(self):
        self._client = None

    def invoke(self, request):
        from ask_sdk_core.exceptions import ApiClientException

        budget = _BUDGET.get() or CallBudget()
        timeout = budget.next_timeout()
        if timeout <= 0:
            budget.timed_out = True
            raise ApiClientException("no time left for another API call")
        if self._client is None:
            from ask_sdk_core.api_client import DefaultApiClient

            self._client = DefaultApiClient()
        outcome: dict = {}

        def call():
            try:
                outcome["response"] = self._client.invoke(request)
            except Exception as error:  # handed to the caller below
                outcome["error"] = error

        worker = threading.Thread(target=call, name="alexa-api-call", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            budget.timed_out = True
            raise ApiClientException(f"no answer within {timeout:.2f} s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["response"]


_API_CLIENT = BoundedApiClient()


def service_clients(handler_input: HandlerInput):
    """The SDK's `ServiceClientFactory` for this request's `apiEndpoint` and `apiAccessToken`.

    Built here, as ask-sdk-core's `Skill.invoke` builds it when the skill builder is given an
    API client, rather than by giving the builder one: the SDK then reads
    `context.System` on every request before any handler runs, and a request without a
    context (Alexa never sends one, but the skill must still answer it) would fail outside
    every handler. Only reminder requests pay for it.
    """
    from ask_sdk_core.serialize import DefaultSerializer
    from ask_sdk_model.services import ApiConfiguration, ServiceClientFactory

    try:
        configured = handler_input.service_client_factory  # a builder given an API client
    except ValueError:  # the SDK's way of saying there is none
        configured = None
    if configured is not None:
        return configured
    system = _system(handler_input)
    token = getattr(system, "api_access_token", None)
    endpoint = getattr(system, "api_endpoint", None)
    if not token or not endpoint:
        raise ApiFailure("permission", "the request carries no API endpoint or token")
    return ServiceClientFactory(ApiConfiguration(
        serializer=DefaultSerializer(), api_client=_API_CLIENT, authorization_value=token,
        api_endpoint=endpoint))


# ------------------------------------------------------------------------ the API, plainly

class ApiFailure(Exception):
    """An API call failed; `kind` is what the person hears about (see reminders.error)."""

    def __init__(self, kind: str, detail: str = "", status: int | None = None):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.status = status


def _error_code(body) -> str | None:
    code = getattr(body, "code", None)
    if code is None and isinstance(body, str):
        try:
            code = json.loads(body).get("code")
        except (ValueError, AttributeError):
            code = None
    return code if isinstance(code, str) else None


def _failure(error: Exception, budget: CallBudget) -> ApiFailure:
    if budget.timed_out:
        return ApiFailure("timeout", str(error))
    status = getattr(error, "status_code", None)
    code = _error_code(getattr(error, "body", None))
    if code == "MAX_REMINDERS_EXCEEDED":
        return ApiFailure("too_many", code)
    if code == "DEVICE_NOT_SUPPORTED":
        return ApiFailure("unsupported", code)
    if status in (401, 403):
        return ApiFailure("permission", f"{status} {code}")
    if status == 504:
        return ApiFailure("timeout", f"{status} {code}")
    return ApiFailure("unknown", f"{status} {code} {error}", status)


class ReminderApi:
    """The calls the skill makes, with SDK objects in and plain values out."""

    def __init__(self, handler_input: HandlerInput, budget: CallBudget):
        self.handler_input = handler_input
        self.budget = budget
        self.factory = service_clients(handler_input)

    def _call(self, what, *args):
        token = _BUDGET.set(self.budget)
        try:
            return what(*args)
        except ApiFailure:
            raise
        except Exception as error:
            raise _failure(error, self.budget) from error
        finally:
            _BUDGET.reset(token)

    def time_zone(self) -> str | None:
        """The device's time zone from the Settings API, or None (the create request then
        leaves timeZoneId out; see docs/reminders.md)."""
        device = _device_id(self.handler_input)
        if not device:
            return None
        try:
            zone = self._call(self.factory.get_ups_service().get_system_time_zone, device)
        except ApiFailure as failure:
            if failure.kind == "timeout":
                raise
            log.warning("time zone unavailable (%s); using the API's default", failure.kind)
            return None
        return zone if isinstance(zone, str) and zone else None

    def existing(self):
        """Every reminder of this skill for this person, as `reminders.Existing` values.

        Why not `get_reminders()`: in ask-sdk-model (1.82 here) its response model cannot be
        deserialized -- `AlertInfo` names a module that does not exist
        (alexa/alexa-apis-for-python#4) and empty datetimes fail to parse (#30). So the
        same SDK client is asked for the same resource through its public `invoke`, with
        the plain JSON as the response type; status codes and errors are handled by the
        SDK as for any other call.
        """
        from ask_sdk_model.services import ServiceClientResponse

        reminders = _reminders()
        system = _system(self.handler_input)
        client = self.factory.get_reminder_management_service()
        error_type = "ask_sdk_model.services.reminder_management.error.Error"
        definitions = [ServiceClientResponse("object", 200, "Success")] + [
            ServiceClientResponse(error_type, status, message) for status, message in
            ((401, "Unauthorized"), (403, "Forbidden"), (429, "Rate exceeded"),
             (500, "Internal Server Error"))]
        response = self._call(lambda: client.invoke(
            method="GET", endpoint=system.api_endpoint, path="/v1/alerts/reminders",
            query_params=[], path_params={}, body=None, response_type="object",
            header_params=[("Content-type", "application/json"),
                           ("Authorization", f"Bearer {system.api_access_token}")],
            response_definitions=definitions))
        body = getattr(response, "body", None)
        found = []
        for alert in (body.get("alerts") if isinstance(body, dict) else None) or []:
            if not isinstance(alert, dict) or not isinstance(alert.get("alertToken"), str):
                continue
            recurrence = (alert.get("trigger") or {}).get("recurrence") or {}
            rules = tuple(r for r in recurrence.get("recurrenceRules") or () if isinstance(r, str))
            content = ((alert.get("alertInfo") or {}).get("spokenInfo") or {}).get("content")
            text = next((c.get("text") for c in content or () if isinstance(c, dict)
                         and isinstance(c.get("text"), str)), "")
            status = alert.get("status") if isinstance(alert.get("status"), str) else "ON"
            found.append(reminders.Existing(alert["alertToken"], status, rules, text))
        return found

    def create(self, spec, zone: str | None) -> None:
        from ask_sdk_model.services.reminder_management import (
            AlertInfo, PushNotification, PushNotificationStatus, Recurrence, ReminderRequest,
            SpokenInfo, SpokenText, Trigger, TriggerType)

        from skill.dialog import ssml

        now = _local_now(zone)
        request = ReminderRequest(
            request_time=now,
            trigger=Trigger(
                object_type=TriggerType.SCHEDULED_ABSOLUTE, time_zone_id=zone,
                recurrence=Recurrence(
                    start_date_time=now.replace(hour=0, minute=0, second=0, microsecond=0),
                    recurrence_rules=list(spec.rules))),
            alert_info=AlertInfo(spoken_info=SpokenInfo(content=[SpokenText(
                locale=locale(self.handler_input), text=spec.text,
                ssml=ssml.wrap(ssml.escape(spec.text)))])),
            push_notification=PushNotification(status=PushNotificationStatus.ENABLED))
        self._call(self.factory.get_reminder_management_service().create_reminder, request)

    def delete(self, alert_token: str) -> None:
        try:
            self._call(self.factory.get_reminder_management_service().delete_reminder,
                       alert_token)
        except ApiFailure as failure:
            if failure.status != 404:  # already gone: what we wanted
                raise


def _local_now(zone: str | None):
    """Now, as a naive local time in `zone` (the API takes times without an offset)."""
    from datetime import datetime, timezone

    if zone:
        try:
            from zoneinfo import ZoneInfo

            return datetime.now(ZoneInfo(zone)).replace(tzinfo=None, microsecond=0)
        except (KeyError, ValueError, OSError):
            pass
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


# --------------------------------------------------------------------------- request facts

def _system(handler_input: HandlerInput):
    return getattr(getattr(handler_input.request_envelope, "context", None), "system", None)


def _device_id(handler_input: HandlerInput) -> str | None:
    device = getattr(_system(handler_input), "device", None)
    value = getattr(device, "device_id", None)
    return value if isinstance(value, str) and value else None


def has_permission(handler_input: HandlerInput) -> bool:
    """The person granted the skill permissions (Alexa then puts a consent token here)."""
    permissions = getattr(getattr(_system(handler_input), "user", None), "permissions", None)
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
    key = _reminders().PERSISTENT_KEY
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
                      card_title=_reminders().prompt("card_title"),
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
    reply = _reminders().said(key, one_shot)
    return respond(handler_input, _without_card(reply))


def _without_card(reply):
    """The same reply with no simple card (the consent card takes its place)."""
    from dataclasses import replace

    return replace(reply, card_title=None, card_text=None)


def _ask_permission(handler_input: HandlerInput, one_shot: bool) -> Response:
    """Ask by voice where the device can; otherwise the consent card."""
    memory = _memory(handler_input)
    device = _device_id(handler_input)
    voice_failed = memory.get("voice_ask_failed")
    if not device or (isinstance(voice_failed, list) and device in voice_failed):
        return _permission_card(handler_input, "permission_card", one_shot)
    from ask_sdk_model.interfaces.connections import SendRequestDirective

    handler_input.response_builder.add_directive(SendRequestDirective(
        name="AskFor", token=ASK_FOR_TOKEN,
        payload={"@type": "AskForPermissionsConsentRequest", "@version": "1",
                 "permissionScope": PERMISSION_SCOPE}))
    reply = _reminders().said("ask_permission", one_shot, end=True)
    return respond(handler_input, _without_card(reply))


def _apply(handler_input: HandlerInput, request, one_shot: bool) -> Response:
    """Make the API hold exactly `request.schedule`; confirm it, or say what went wrong."""
    reminders = _reminders()
    budget = CallBudget()
    try:
        api = ReminderApi(handler_input, budget)
        existing = api.existing()
        todo = reminders.plan(existing, request.schedule.reminders())
        zone = api.time_zone() if todo.create else None
        for spec in todo.create:
            api.create(spec, zone)
        for alert_token in todo.delete:
            api.delete(alert_token)
    except ApiFailure as failure:
        log.warning("setting reminders failed: %s", failure)
        return _failed(handler_input, failure, one_shot)
    memory = _memory(handler_input)
    memory["settings"] = request.schedule.to_dict()
    memory.pop("pending", None)
    save_persistent(handler_input)
    return _respond(handler_input, reminders.confirmation(request, todo, one_shot),
                    remember_as=_request_id(handler_input))


def _failed(handler_input: HandlerInput, failure: ApiFailure, one_shot: bool) -> Response:
    if failure.kind == "permission":
        return _permission_card(handler_input, "error_permission", one_shot)
    return respond(handler_input, _reminders().error(failure.kind, one_shot))


def _pending_request(handler_input: HandlerInput):
    reminders = _reminders()
    memory = _memory(handler_input)
    pending = memory.get("pending")
    if isinstance(pending, dict):
        schedule = reminders.Schedule.from_dict(pending.get("schedule"))
        if schedule is not None:
            asked = pending.get("asked")
            return reminders.Request(schedule, asked if isinstance(asked, int) else None,
                                     bool(pending.get("window_kept")))
    return reminders.understand(saved=memory.get("settings"))


# ------------------------------------------------------------------------------- handlers

def _slot_text(slots, name: str) -> str | None:
    value = slots.get(name)
    if value is None:
        return None
    return value.id or value.raw


class SetRemindersHandler(AbstractRequestHandler):
    """"Remind me to get up every 45 minutes from 8 to 4": set (or change) the schedule."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("SetMovementRemindersIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        replay = _replayed(handler_input)
        if replay is not None:
            return replay
        slots = slot_values(handler_input)
        memory = _memory(handler_input)
        request = _reminders().understand(
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


class ListRemindersHandler(AbstractRequestHandler):
    """"What reminders do I have": read them back from the API (the truth), not memory."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("ListMovementRemindersIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        one_shot = _one_shot(handler_input)
        if not has_permission(handler_input):
            return _permission_card(handler_input, "no_permission_to_read", one_shot)
        try:
            existing = ReminderApi(handler_input, CallBudget()).existing()
        except ApiFailure as failure:
            return _failed(handler_input, failure, one_shot)
        return respond(handler_input, _reminders().listing(existing, one_shot))


class StopRemindersHandler(AbstractRequestHandler):
    """"Stop my movement reminders": delete every active one (a retry finds none left)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("StopMovementRemindersIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        replay = _replayed(handler_input)
        if replay is not None:
            return replay
        one_shot = _one_shot(handler_input)
        if not has_permission(handler_input):
            return _permission_card(handler_input, "no_permission_to_read", one_shot)
        reminders = _reminders()
        try:
            api = ReminderApi(handler_input, CallBudget())
            targets = [r.token for r in reminders.active(api.existing())]
            for alert_token in targets:
                api.delete(alert_token)
        except ApiFailure as failure:
            return _failed(handler_input, failure, one_shot)
        _memory(handler_input).pop("pending", None)
        save_persistent(handler_input)
        return _respond(handler_input, reminders.stopped(len(targets), one_shot),
                        remember_as=_request_id(handler_input))


class PermissionAnswerHandler(AbstractRequestHandler):
    """Alexa's `Connections.Response` to our "AskFor": accepted, denied, or not answered."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        if not is_request_type("Connections.Response")(handler_input):
            return False
        return getattr(handler_input.request_envelope.request, "name", None) == "AskFor"

    def handle(self, handler_input: HandlerInput) -> Response:
        request = handler_input.request_envelope.request
        code = str(getattr(getattr(request, "status", None), "code", "") or "")
        payload = request.payload if isinstance(request.payload, dict) else {}
        answer = payload.get("status")
        if not code.startswith("2"):
            device = _device_id(handler_input)
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
            return respond(handler_input, _reminders().said("permission_denied", True))
        return _permission_card(handler_input, "permission_card", True)


HANDLERS = (
    PermissionAnswerHandler(),
    SetRemindersHandler(),
    ListRemindersHandler(),
    StopRemindersHandler(),
)
