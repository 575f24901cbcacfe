"""Movement reminders end to end: real envelopes through lambda_handler, real HTTPS to the
loopback Reminders/Settings API stand-in (tests/reminders_api.py), through ask-sdk-core's
own API client and service clients.

Every test checks both sides: what the person hears, and what the API received (or that it
received nothing).
"""

import json
import uuid

import pytest

from reminders_api import REMINDERS_PATH, RemindersApiStandIn
from skill.content import is_verbatim_excerpt
from skill.dialog import ssml
from simulator.envelopes import Envelopes

SCOPE = "alexa::alerts:reminders:skill:readwrite"
SET = "SetMovementRemindersIntent"
LIST = "ListMovementRemindersIntent"
STOP = "StopMovementRemindersIntent"


@pytest.fixture(scope="module")
def standin():
    with RemindersApiStandIn() as server:
        yield server


@pytest.fixture
def api(standin, monkeypatch):
    """The stand-in, emptied, trusted by `requests`, with short API timeouts."""
    standin.reset()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(standin.ca_file))
    monkeypatch.setenv("REMINDERS_API_TIMEOUT", "0.5")
    monkeypatch.setenv("REMINDERS_API_BUDGET", "1.5")
    return standin


def device(api, granted=True, **kwargs) -> Envelopes:
    return Envelopes(user_id=f"amzn1.ask.account.reminders-{uuid.uuid4()}",
                     api_endpoint=api.url, api_access_token=f"token-{uuid.uuid4()}",
                     reminders_granted=granted, **kwargs)


def said(response: dict) -> str:
    json.dumps(response)
    speech = ssml.to_plain_text(response["response"]["outputSpeech"]["ssml"])
    assert speech.strip()
    if response["response"].get("shouldEndSession") is False:
        assert response["response"]["reprompt"]["outputSpeech"]["ssml"]
    return speech


def directives(response: dict) -> list[dict]:
    return response["response"].get("directives") or []


def card_type(response: dict) -> str | None:
    return (response["response"].get("card") or {}).get("type")


def active(api, alexa: Envelopes) -> list[dict]:
    return api.active(alexa.api_access_token)


def test_missing_permission_is_asked_for_by_voice_and_nothing_is_created(api, lambda_handler):
    alexa = device(api, granted=False)
    response = lambda_handler(alexa.intent(SET, {"interval": "PT1H"}), None)
    assert "permission" in said(response)
    [directive] = directives(response)
    assert directive["type"] == "Connections.SendRequest" and directive["name"] == "AskFor"
    assert directive["payload"] == {"@type": "AskForPermissionsConsentRequest",
                                    "@version": "1", "permissionScope": SCOPE}
    assert api.state.received == []


def test_granted_creates_one_recurring_reminder_with_the_requests_token(api, lambda_handler):
    alexa = device(api)
    api.state.time_zones[alexa.device_id] = "America/Chicago"
    response = lambda_handler(alexa.intent(SET, {}), None)
    speech = said(response)
    for words in ("every hour", "10 AM", "5 PM", "weekdays", "stop"):
        assert words in speech
    [created] = api.created()
    assert created.authorization == f"Bearer {alexa.api_access_token}"
    trigger = created.body["trigger"]
    assert trigger["type"] == "SCHEDULED_ABSOLUTE"
    assert trigger["timeZoneId"] == "America/Chicago"
    assert trigger["recurrence"]["recurrenceRules"] == [
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=10,11,12,13,14,15,16,17;BYMINUTE=0;"
        "BYSECOND=0;INTERVAL=1"]
    [content] = created.body["alertInfo"]["spokenInfo"]["content"]
    assert content["locale"] == "en-US"
    assert is_verbatim_excerpt(content["text"])
    assert content["text"].startswith("Aim to stand up and walk around every 30 to 60 minutes.")
    assert created.body["pushNotification"] == {"status": "ENABLED"}
    settings = api.requests("GET", "/v2/devices/")
    assert [r.path for r in settings] == [
        f"/v2/devices/{alexa.device_id}/settings/System.timeZone"]
    assert len(active(api, alexa)) == 1


def test_an_interval_outside_the_article_is_explained_and_rounded(api, lambda_handler):
    alexa = device(api)
    speech = said(lambda_handler(alexa.intent(SET, {"interval": "PT2H"}), None))
    assert speech.startswith("Aim to stand up and walk around every 30 to 60 minutes.")
    assert "every hour" in speech
    rules = api.created()[0].body["trigger"]["recurrence"]["recurrenceRules"]
    assert all("BYMINUTE=0" in r for r in rules)


def test_list_reads_back_what_the_api_holds(api, lambda_handler):
    alexa = device(api)
    lambda_handler(alexa.intent(SET, {"interval": "PT30M", "start": "08:00",
                                      "end": "16:00"}), None)
    speech = said(lambda_handler(alexa.intent(LIST, {}), None))
    assert "every 30 minutes" in speech and "8:30 AM to 4 PM" in speech
    other = device(api)
    assert "don't have any" in said(lambda_handler(other.intent(LIST, {}), None))


def test_stop_deletes_every_active_reminder_and_a_second_stop_finds_none(api, lambda_handler):
    alexa = device(api)
    lambda_handler(alexa.intent(SET, {}), None)
    assert "off" in said(lambda_handler(alexa.intent(STOP, {}), None))
    assert active(api, alexa) == []
    assert len(api.requests("DELETE", REMINDERS_PATH)) == 1
    assert "nothing to stop" in said(lambda_handler(alexa.intent(STOP, {}), None))
    assert len(api.requests("DELETE", REMINDERS_PATH)) == 1


def test_a_new_schedule_replaces_the_old_one(api, lambda_handler):
    alexa = device(api)
    lambda_handler(alexa.intent(SET, {"interval": "PT1H"}), None)
    speech = said(lambda_handler(alexa.intent(SET, {"interval": "PT45M"}), None))
    assert "every 45 minutes" in speech
    [reminder] = active(api, alexa)
    assert len(reminder["trigger"]["recurrence"]["recurrenceRules"]) == 4
    assert len(api.created()) == 2 and len(api.requests("DELETE")) == 1


def test_asking_again_for_the_same_schedule_creates_nothing(api, lambda_handler):
    alexa = device(api)
    lambda_handler(alexa.intent(SET, {"interval": "PT30M"}), None)
    speech = said(lambda_handler(alexa.intent(SET, {"interval": "PT30M"}), None))
    assert "already have" in speech
    assert len(api.created()) == 1 and len(active(api, alexa)) == 1


def test_a_request_alexa_sends_twice_is_answered_once(api, lambda_handler):
    alexa = device(api)
    event = alexa.intent(SET, {"interval": "PT45M"})
    first = said(lambda_handler(event, None))
    calls = len(api.state.received)
    second = said(lambda_handler(event, None))
    assert second == first
    assert len(api.state.received) == calls  # answered from memory, no API call
    assert len(api.created()) == 1


def test_a_create_that_timed_out_is_not_repeated_on_the_retry(api, lambda_handler):
    alexa = device(api)
    api.delay("POST", REMINDERS_PATH, seconds=1.2)  # made, but the answer comes too late
    speech = said(lambda_handler(alexa.intent(SET, {}), None))
    assert "didn't answer in time" in speech
    assert len(active(api, alexa)) == 1
    speech = said(lambda_handler(alexa.intent(SET, {}), None))
    assert "already have" in speech
    assert len(api.created()) == 1 and len(active(api, alexa)) == 1


@pytest.mark.parametrize("method,path,status,code,expected,consent_card", [
    ("GET", REMINDERS_PATH, 401, "UNAUTHORIZED", "not allowed", True),
    ("POST", REMINDERS_PATH, 403, "FORBIDDEN", "not allowed", True),
    ("POST", REMINDERS_PATH, 403, "MAX_REMINDERS_EXCEEDED", "too many reminders", False),
    ("POST", REMINDERS_PATH, 403, "DEVICE_NOT_SUPPORTED", "doesn't support reminders", False),
    ("POST", REMINDERS_PATH, 500, "INTERNAL_ERROR", "went wrong", False),
    ("POST", REMINDERS_PATH, 429, "RATE_EXCEEDED", "went wrong", False),
    ("POST", REMINDERS_PATH, 504, "GATEWAY_TIMEOUT", "didn't answer in time", False),
    ("GET", REMINDERS_PATH, 503, "SERVICE_UNAVAILABLE", "went wrong", False),
])
def test_each_api_error_is_spoken_and_nothing_is_left_half_done(
        api, lambda_handler, method, path, status, code, expected, consent_card):
    alexa = device(api)
    api.fail(method, path, status, code)
    response = lambda_handler(alexa.intent(SET, {}), None)
    assert expected in said(response)
    assert (card_type(response) == "AskForPermissionsConsent") == consent_card
    if consent_card:
        assert response["response"]["card"]["permissions"] == [SCOPE]
    assert active(api, alexa) == []


def test_a_token_without_the_permission_gets_the_consent_card(api, lambda_handler):
    alexa = device(api)
    api.state.no_permission.add(alexa.api_access_token)
    response = lambda_handler(alexa.intent(LIST, {}), None)
    assert "not allowed" in said(response)
    assert card_type(response) == "AskForPermissionsConsent"


def test_too_many_reminders_from_the_apis_own_limit(api, lambda_handler):
    alexa = device(api)
    api.state.max_reminders = 0
    assert "too many reminders" in said(lambda_handler(alexa.intent(SET, {}), None))


def test_a_stalled_api_still_gets_a_spoken_answer(api, lambda_handler):
    alexa = device(api)
    api.delay("GET", REMINDERS_PATH, seconds=1.5, times=3)
    for intent in (SET, LIST, STOP):
        assert "didn't answer in time" in said(lambda_handler(alexa.intent(intent, {}), None))
    assert api.created() == []


@pytest.mark.parametrize("how", ["fails", "no content"])
def test_without_the_device_time_zone_the_apis_default_is_left_to_the_api(
        api, lambda_handler, how):
    alexa = device(api)
    if how == "fails":
        api.fail("GET", "/v2/devices/", 500, "INTERNAL_ERROR")
    else:
        api.state.default_time_zone = None
    assert "I'll remind you" in said(lambda_handler(alexa.intent(SET, {}), None))
    [created] = api.created()
    assert "timeZoneId" not in created.body["trigger"]


def test_permission_granted_by_voice_creates_the_schedule_asked_for(api, lambda_handler):
    alexa = device(api, granted=False)
    lambda_handler(alexa.intent(SET, {"interval": "PT45M", "days": "every_day"}), None)
    assert api.state.received == []
    alexa.reminders_granted = True  # Alexa now sends the consent with every request
    response = lambda_handler(alexa.connections_response(
        "AskFor", {"permissionScope": SCOPE, "status": "ACCEPTED"}, token="movement_reminders"),
        None)
    speech = said(response)
    assert "every 45 minutes" in speech and "every day" in speech
    [created] = api.created()
    assert created.authorization == f"Bearer {alexa.api_access_token}"
    assert all(r.startswith("FREQ=DAILY") for r in
               created.body["trigger"]["recurrence"]["recurrenceRules"])


def test_permission_denied_creates_nothing_and_says_so(api, lambda_handler):
    alexa = device(api, granted=False)
    lambda_handler(alexa.intent(SET, {}), None)
    response = lambda_handler(alexa.connections_response(
        "AskFor", {"permissionScope": SCOPE, "status": "DENIED"}), None)
    assert "no reminders" in said(response)
    assert api.state.received == []


def test_permission_not_answered_sends_the_consent_card(api, lambda_handler):
    alexa = device(api, granted=False)
    lambda_handler(alexa.intent(SET, {}), None)
    response = lambda_handler(alexa.connections_response(
        "AskFor", {"permissionScope": SCOPE, "status": "NOT_ANSWERED"}), None)
    assert "card" in said(response)
    assert card_type(response) == "AskForPermissionsConsent"
    assert api.state.received == []


def test_a_device_that_cannot_ask_by_voice_gets_the_card_from_then_on(api, lambda_handler):
    alexa = device(api, granted=False)
    lambda_handler(alexa.intent(SET, {}), None)
    response = lambda_handler(alexa.connections_response("AskFor", {}, code="500"), None)
    assert "couldn't ask" in said(response)
    assert card_type(response) == "AskForPermissionsConsent"
    again = lambda_handler(alexa.intent(SET, {}), None)
    assert directives(again) == []
    assert card_type(again) == "AskForPermissionsConsent" and "card" in said(again)
    assert api.state.received == []


@pytest.mark.parametrize("intent", [LIST, STOP])
def test_list_and_stop_without_permission_send_the_card_and_call_nothing(
        api, lambda_handler, intent):
    alexa = device(api, granted=False)
    response = lambda_handler(alexa.intent(intent, {}), None)
    assert "permission" in said(response)
    assert card_type(response) == "AskForPermissionsConsent"
    assert api.state.received == []


def test_in_session_the_reply_keeps_the_conversation_going(api, lambda_handler):
    alexa = device(api)
    alexa.carry(lambda_handler(alexa.launch(), None))
    response = lambda_handler(alexa.intent(SET, {"interval": "PT1H"}), None)
    assert response["response"]["shouldEndSession"] is False
    assert "What else?" in said(response)


@pytest.mark.parametrize("drop", ["context", "token"])
@pytest.mark.parametrize("intent", [SET, LIST, STOP])
def test_a_request_without_context_or_api_token_is_still_answered(api, lambda_handler,
                                                                   drop, intent):
    alexa = device(api)
    event = alexa.intent(intent, {})
    if drop == "context":
        del event["context"]
    else:
        del event["context"]["System"]["apiAccessToken"]
    assert said(lambda_handler(event, None))
    assert api.state.received == []


def test_the_simulator_pretends_the_permission_and_points_at_the_stand_in(api, lambda_handler):
    import io

    from simulator import chat

    out = io.StringIO()
    typed = "ask leg numbness guide to remind me to get up every forty five minutes\n"
    chat.main(["--grant-reminders", "--api-endpoint", api.url,
               "--user", f"amzn1.ask.account.chat-{uuid.uuid4()}"],
              handler=lambda_handler, stdin=io.StringIO(typed), stdout=out)
    assert "I'll remind you to move every 45 minutes" in out.getvalue()
    [created] = api.created()
    assert created.authorization == "Bearer simulated-token"


def test_in_the_simulator_the_permission_can_be_answered_by_voice(api, lambda_handler):
    import io

    from simulator import chat

    out = io.StringIO()
    typed = ("ask leg numbness guide to remind me to stretch every hour\n"
             "/permission accepted\n")
    chat.main(["--api-endpoint", api.url, "--user", f"amzn1.ask.account.chat-{uuid.uuid4()}"],
              handler=lambda_handler, stdin=io.StringIO(typed), stdout=out)
    text = out.getvalue()
    assert "Connections.SendRequest" in text and "permission" in text
    assert "I'll remind you to move every hour" in text
    assert len(api.created()) == 1
