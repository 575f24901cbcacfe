"""Real Alexa request envelopes for the simulator, the transcript tests and the fuzz tests.

Why one small builder: everything that talks to `lambda_handler` without a device (the
chat, transcripts, fuzzing) must send what Alexa sends, including the session bookkeeping
a skill relies on: `session.new` only on the first request, the same `sessionId` until the
session ends, and the `sessionAttributes` of the previous response handed back. `Envelopes`
keeps that state, so callers only say what happens:

    alexa = Envelopes(locale="en-GB", user_id="amzn1.ask.account.test", screen=True)
    response = lambda_handler(alexa.launch(), None)
    alexa.carry(response)                      # attributes in, session closed if it ended
    response = lambda_handler(alexa.intent("TopicIntent", slots), None)
    alexa.carry(response)
    lambda_handler(alexa.session_ended("USER_INITIATED"), None)

After a response that ends the session (or after `session_ended`), the next request starts
a new session automatically (same user, new `sessionId`, no attributes), as Alexa does;
`new_session()` forces that. `slots` are the `intent.slots` JSON (for example from
`nlu.request_slots`), or plain `{name: value}` strings for slots without entity resolution.

For movement reminders, `api_endpoint` (and `api_access_token`) say where the skill's API
calls go (a loopback stand-in in tests), `reminders_granted=True` pretends the person has
granted the reminders permission (a consent token in `user.permissions`), and
`connections_response` is Alexa's answer to the skill's permission request.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from simulator.nlu import DEFAULT_SKILL_ID

API_ENDPOINT = "https://api.amazonalexa.com"
DEFAULT_USER_ID = "amzn1.ask.account.SIMULATED-USER"
SESSION_ENDED_REASONS = ("USER_INITIATED", "ERROR", "EXCEEDED_MAX_REPROMPTS")
# What an Echo Show advertises; only `Alexa.Presentation.APL` matters to the skill.
APL_INTERFACE = {"Alexa.Presentation.APL": {"runtime": {"maxVersion": "2023.3"}}}
APL_VIEWPORT = {
    "experiences": [{"arcMinuteWidth": 246, "arcMinuteHeight": 144, "canRotate": False,
                     "canResize": False}],
    "mode": "HUB", "shape": "RECTANGLE", "pixelWidth": 1024, "pixelHeight": 600, "dpi": 160,
    "currentPixelWidth": 1024, "currentPixelHeight": 600,
    "touch": ["SINGLE"], "keyboard": [], "video": {"codecs": ["H_264_42", "H_264_41"]},
}


def _now_iso() -> str:
    """Alexa's timestamp format: ISO 8601, UTC, whole seconds ("2024-05-01T09:30:00Z")."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Envelopes:
    """Builds the request envelopes of one simulated user on one device (see module doc)."""

    def __init__(self, locale: str = "en-US", user_id: str = DEFAULT_USER_ID,
                 application_id: str = DEFAULT_SKILL_ID, screen: bool = False, *,
                 device_id: str | None = None, clock: Callable[[], str] = _now_iso,
                 api_endpoint: str = API_ENDPOINT, api_access_token: str = "simulated-token",
                 reminders_granted: bool = False):
        self.locale = locale
        self.user_id = user_id
        self.application_id = application_id
        self.screen = screen
        self.device_id = device_id or "amzn1.ask.device.SIMULATED-" + uuid.uuid4().hex.upper()
        self._clock = clock
        self.api_endpoint = api_endpoint
        self.api_access_token = api_access_token
        self.reminders_granted = reminders_granted
        self.session_id = ""
        self.attributes: dict = {}
        self.is_new = True
        self.ended = False
        self.new_session()

    # -- session bookkeeping

    def new_session(self) -> None:
        """Start a new session: fresh `sessionId`, `new: true`, no session attributes."""
        self.session_id = f"amzn1.echo-api.session.{uuid.uuid4()}"
        self.attributes = {}
        self.is_new = True
        self.ended = False

    def carry(self, response: dict | None) -> None:
        """Take what Alexa keeps from the skill's response envelope (a dict).

        `sessionAttributes` come back on the next request. The session ends unless the
        response says `shouldEndSession: false` (an absent value ends it on a speaker
        without a screen, which is what the simulator models).
        """
        response = response or {}
        self.attributes = copy.deepcopy(response.get("sessionAttributes") or {})
        if (response.get("response") or {}).get("shouldEndSession") is not False:
            self.ended = True

    @property
    def session_open(self) -> bool:
        """True while a session is running (after a request, before it ended)."""
        return not self.ended and not self.is_new

    # -- requests

    def launch(self) -> dict:
        """A LaunchRequest ("Alexa, open leg numbness guide")."""
        return self._envelope({"type": "LaunchRequest"})

    def intent(self, name: str, slots: dict[str, Any] | None = None,
               confirmation_status: str = "NONE") -> dict:
        """An IntentRequest for `name` with `slots` (Alexa slot JSON or plain strings)."""
        intent = {"name": name, "confirmationStatus": confirmation_status}
        if slots:
            intent["slots"] = {slot: self._slot(slot, value) for slot, value in slots.items()}
        else:
            intent["slots"] = {}
        return self._envelope({"type": "IntentRequest", "intent": intent})

    def connections_response(self, name: str = "AskFor", payload: dict | None = None,
                             code: str = "200", token: str = "") -> dict:
        """Alexa's `Connections.Response` to a `Connections.SendRequest` (e.g. the answer to
        "AskFor" permission: payload {"permissionScope": ..., "status": "ACCEPTED"})."""
        return self._envelope({"type": "Connections.Response", "name": name,
                               "status": {"code": code, "message": "OK" if code == "200"
                                          else "simulated failure"},
                               "payload": payload or {}, "token": token})

    def session_ended(self, reason: str = "USER_INITIATED", error: dict | None = None) -> dict:
        """A SessionEndedRequest; the session is over afterwards (the skill cannot answer).

        `reason` is one of USER_INITIATED ("exit"), EXCEEDED_MAX_REPROMPTS (no answer
        after the reprompt) or ERROR (with `error` = {"type", "message"}).
        """
        if reason not in SESSION_ENDED_REASONS:
            raise ValueError(f"reason must be one of {SESSION_ENDED_REASONS}")
        request: dict[str, Any] = {"type": "SessionEndedRequest", "reason": reason}
        if reason == "ERROR":
            request["error"] = error or {"type": "INTERNAL_SERVICE_ERROR",
                                         "message": "simulated error"}
        envelope = self._envelope(request)
        self.ended = True
        return envelope

    # -- assembling

    @staticmethod
    def _slot(name: str, value: Any) -> dict:
        if isinstance(value, dict):
            slot = copy.deepcopy(value)
            slot.setdefault("name", name)
            slot.setdefault("confirmationStatus", "NONE")
            return slot
        slot = {"name": name, "confirmationStatus": "NONE"}
        if value is not None:
            slot.update({"value": str(value), "source": "USER"})
        return slot

    def _envelope(self, request: dict) -> dict:
        if self.ended:
            self.new_session()
        request = {
            **request,
            "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
            "timestamp": self._clock(),
            "locale": self.locale,
        }
        application = {"applicationId": self.application_id}
        user: dict[str, Any] = {"userId": self.user_id}
        if self.reminders_granted:
            user["permissions"] = {"consentToken": "simulated-consent-token"}
        device: dict[str, Any] = {"deviceId": self.device_id, "supportedInterfaces": {}}
        if self.screen:
            device["supportedInterfaces"] = copy.deepcopy(APL_INTERFACE)
        system = {"application": application, "user": user, "device": device,
                  "apiEndpoint": self.api_endpoint, "apiAccessToken": self.api_access_token}
        context: dict[str, Any] = {"System": system}
        if self.screen:
            context["Viewport"] = copy.deepcopy(APL_VIEWPORT)
        envelope = {
            "version": "1.0",
            "session": {
                "new": self.is_new,
                "sessionId": self.session_id,
                "application": dict(application),
                "attributes": copy.deepcopy(self.attributes),
                "user": dict(user),
            },
            "context": context,
            "request": request,
        }
        self.is_new = False
        return envelope
