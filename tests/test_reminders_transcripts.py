"""The `with_reminders_api` conversations of tests/transcripts/reminders*.yaml, played through
lambda_handler against the loopback Reminders/Settings API stand-in.

What the user says is resolved by the simulator's NLU, as in every transcript; the extra
turn keys (documented at the top of reminders.yaml) answer the skill's permission request
and check what the API received.
"""

import uuid

import pytest
import yaml

from reminders_api import REMINDERS_PATH, RemindersApiStandIn
from simulator.envelopes import Envelopes
from transcript_runner import (KNOWN_TURN_KEYS, TRANSCRIPTS, TranscriptLoader, _check,
                               _describe, _event_for)

EXTRA_TURN_KEYS = {"permission", "api_fail", "api_created", "api_active", "directive",
                   "card_type"}
SCOPE = "alexa::alerts:reminders:skill:readwrite"


def _conversations():
    cases = []
    for path in sorted(TRANSCRIPTS.glob("reminders*.yaml")):
        data = yaml.load(path.read_text("utf-8"), Loader=TranscriptLoader)
        for conversation in data.get("with_reminders_api") or []:
            cases.append((f"{path.stem}: {conversation['name']}", conversation))
    return cases


CASES = _conversations()


def test_there_are_reminder_conversations():
    assert len(CASES) >= 4


@pytest.fixture(scope="module")
def standin():
    with RemindersApiStandIn() as server:
        yield server


@pytest.mark.parametrize("conversation", [c for _, c in CASES], ids=[i for i, _ in CASES])
def test_reminder_conversation(conversation, standin, lambda_handler, monkeypatch):
    standin.reset()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(standin.ca_file))
    locale = conversation.get("locale", "en-US")
    alexa = Envelopes(locale=locale, user_id=f"amzn1.ask.account.rt-{uuid.uuid4()}",
                      api_endpoint=standin.url, api_access_token=f"token-{uuid.uuid4()}",
                      reminders_granted=bool(conversation.get("granted")))
    if conversation.get("time_zone"):
        standin.state.time_zones[alexa.device_id] = conversation["time_zone"]
    for number, turn in enumerate(conversation["turns"], 1):
        unknown = set(turn) - KNOWN_TURN_KEYS - EXTRA_TURN_KEYS
        assert not unknown, f"turn {number}: unknown keys {unknown}"
        failure = turn.get("api_fail")
        if failure:
            standin.fail(failure["method"], failure["path"], failure["status"], failure["code"])
        if "permission" in turn:
            status = turn["permission"]
            alexa.reminders_granted = alexa.reminders_granted or status == "ACCEPTED"
            event = (alexa.connections_response("AskFor", {}, code="500") if status == "FAILED"
                     else alexa.connections_response(
                         "AskFor", {"permissionScope": SCOPE, "status": status}))
            said = f"(permission {status})"
        else:
            event, said = _event_for(turn, alexa, locale)
        response = lambda_handler(event, None)
        alexa.carry(response)
        heard = _describe(said, response)
        _check(turn, heard, number)
        assert heard.speech.strip(), f"turn {number}: nothing said"
        where = f"turn {number} ({said!r}) heard {heard.speech!r}"
        if "api_created" in turn:
            assert len(standin.requests("POST", REMINDERS_PATH)) == turn["api_created"], where
        if "api_active" in turn:
            assert len(standin.active(alexa.api_access_token)) == turn["api_active"], where
        if "directive" in turn:
            types = [d.get("type") for d in response["response"].get("directives") or []]
            assert turn["directive"] in types, where
        if "card_type" in turn:
            card = response["response"].get("card") or {}
            assert card.get("type") == turn["card_type"], where
