"""The Alexa Reminders and Settings APIs for the movement-reminder handlers, plainly.

Why a module of its own: only reminder requests need it, so it is imported on first use
(by `reminder_flow`), not on every cold start. It holds the three things that keep
a voice reply on time whatever the network does:
- `BoundedApiClient`: ask-sdk-core's `DefaultApiClient` (which has no timeout of its own)
  run in a worker thread that is waited for at most `REMINDERS_API_TIMEOUT` seconds per
  call and never past the request's budget for all calls (`REMINDERS_API_BUDGET`);
- `ReminderApi`: the calls the skill makes, through the SDK's `ReminderManagementServiceClient`
  and `UpsServiceClient`, SDK objects in and plain values out;
- `ApiFailure`: every failure as a kind (permission, too_many, unsupported, timeout,
  unknown) that the dialog layer turns into words.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import threading
import time

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model.services import ApiClient

from skill.alexa.context import locale
from skill.dialog import reminders, ssml

log = logging.getLogger(__name__)

DEFAULT_CALL_TIMEOUT = 1.0  # seconds, per API call
DEFAULT_BUDGET = 2.0  # seconds, all API calls of one request together


def system(handler_input: HandlerInput):
    """`context.System` of the request, or None."""
    return getattr(getattr(handler_input.request_envelope, "context", None), "system", None)


def device_id(handler_input: HandlerInput) -> str | None:
    device = getattr(system(handler_input), "device", None)
    value = getattr(device, "device_id", None)
    return value if isinstance(value, str) and value else None


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
    here = system(handler_input)
    token = getattr(here, "api_access_token", None)
    endpoint = getattr(here, "api_endpoint", None)
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
        device = device_id(self.handler_input)
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

        Why not `getreminders`: in ask-sdk-model (1.82 here) its response model cannot be
        deserialized -- `AlertInfo` names a module that does not exist
        (alexa/alexa-apis-for-python#4) and empty datetimes fail to parse (#30). So the
        same SDK client is asked for the same resource through its public `invoke`, with
        the plain JSON as the response type; status codes and errors are handled by the
        SDK as for any other call.
        """
        from ask_sdk_model.services import ServiceClientResponse

        here = system(self.handler_input)
        client = self.factory.get_reminder_management_service()
        error_type = "ask_sdk_model.services.reminder_management.error.Error"
        definitions = [ServiceClientResponse("object", 200, "Success")] + [
            ServiceClientResponse(error_type, status, message) for status, message in
            ((401, "Unauthorized"), (403, "Forbidden"), (429, "Rate exceeded"),
             (500, "Internal Server Error"))]
        response = self._call(lambda: client.invoke(
            method="GET", endpoint=here.api_endpoint, path="/v1/alerts/reminders",
            query_params=[], path_params={}, body=None, response_type="object",
            header_params=[("Content-type", "application/json"),
                           ("Authorization", f"Bearer {here.api_access_token}")],
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

