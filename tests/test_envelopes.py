"""Request envelopes: shaped as Alexa sends them, with Alexa's session bookkeeping."""

from __future__ import annotations

import json
import re

import pytest
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope

from simulator.envelopes import Envelopes

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def parse(event: dict) -> RequestEnvelope:
    """What the skill sees: the envelope through ask-sdk's own deserializer."""
    return DefaultSerializer().deserialize(json.dumps(event), RequestEnvelope)


def test_launch_request_shape():
    alexa = Envelopes(locale="en-GB", user_id="amzn1.ask.account.u1",
                      application_id="amzn1.ask.skill.s1")
    event = alexa.launch()
    assert event["version"] == "1.0"
    session = event["session"]
    assert session["new"] is True
    assert session["sessionId"].startswith("amzn1.echo-api.session.")
    assert session["application"] == {"applicationId": "amzn1.ask.skill.s1"}
    assert session["user"] == {"userId": "amzn1.ask.account.u1"}
    assert session["attributes"] == {}
    system = event["context"]["System"]
    assert system["application"]["applicationId"] == "amzn1.ask.skill.s1"
    assert system["user"]["userId"] == "amzn1.ask.account.u1"
    assert system["device"]["deviceId"].startswith("amzn1.ask.device.")
    assert system["device"]["supportedInterfaces"] == {}
    assert system["apiEndpoint"] == "https://api.amazonalexa.com"
    request = event["request"]
    assert request["type"] == "LaunchRequest"
    assert request["requestId"].startswith("amzn1.echo-api.request.")
    assert ISO_UTC.match(request["timestamp"])
    assert request["locale"] == "en-GB"
    parsed = parse(event)
    assert parsed.request.object_type == "LaunchRequest"
    assert parsed.session.new is True


def test_screen_devices_advertise_apl():
    event = Envelopes(screen=True).launch()
    interfaces = event["context"]["System"]["device"]["supportedInterfaces"]
    assert "Alexa.Presentation.APL" in interfaces
    assert parse(event).context.system.device.supported_interfaces.alexa_presentation_apl
    assert "Viewport" in event["context"]


def test_intent_request_with_plain_and_full_slots():
    event = Envelopes().intent("TopicIntent", {
        "topic": "sciatica",
        "other": {"value": "x", "resolutions": {"resolutionsPerAuthority": []}},
        "empty": None,
    })
    intent = event["request"]["intent"]
    assert event["request"]["type"] == "IntentRequest"
    assert intent["name"] == "TopicIntent" and intent["confirmationStatus"] == "NONE"
    assert intent["slots"]["topic"] == {"name": "topic", "value": "sciatica",
                                        "confirmationStatus": "NONE", "source": "USER"}
    assert intent["slots"]["other"]["name"] == "other"
    assert intent["slots"]["empty"] == {"name": "empty", "confirmationStatus": "NONE"}
    parsed = parse(event)
    assert parsed.request.intent.slots["topic"].value == "sciatica"


def test_session_continues_until_a_response_ends_it():
    alexa = Envelopes()
    first = alexa.launch()
    alexa.carry({"sessionAttributes": {"k": 1}, "response": {"shouldEndSession": False}})
    second = alexa.intent("TellMeMoreIntent")
    assert second["session"]["new"] is False
    assert second["session"]["sessionId"] == first["session"]["sessionId"]
    assert second["session"]["attributes"] == {"k": 1}
    assert second["request"]["requestId"] != first["request"]["requestId"]
    assert alexa.session_open
    alexa.carry({"sessionAttributes": {"k": 2}, "response": {"shouldEndSession": True}})
    assert not alexa.session_open
    third = alexa.launch()
    assert third["session"]["new"] is True
    assert third["session"]["sessionId"] != first["session"]["sessionId"]
    assert third["session"]["attributes"] == {}
    assert third["session"]["user"] == first["session"]["user"]  # same user: memory persists


def test_a_response_without_should_end_session_ends_it_on_a_speaker():
    alexa = Envelopes()
    alexa.launch()
    alexa.carry({"response": {}})
    assert alexa.intent("AMAZON.HelpIntent")["session"]["new"] is True


def test_carried_attributes_are_copies():
    alexa = Envelopes()
    alexa.launch()
    response = {"sessionAttributes": {"nested": {"a": 1}}, "response": {"shouldEndSession": False}}
    alexa.carry(response)
    response["sessionAttributes"]["nested"]["a"] = 99
    assert alexa.intent("X")["session"]["attributes"] == {"nested": {"a": 1}}


def test_new_session_forces_a_fresh_one():
    alexa = Envelopes()
    first = alexa.launch()
    alexa.carry({"sessionAttributes": {"k": 1}, "response": {"shouldEndSession": False}})
    alexa.new_session()
    again = alexa.intent("AMAZON.HelpIntent")
    assert again["session"]["new"] is True
    assert again["session"]["sessionId"] != first["session"]["sessionId"]
    assert again["session"]["attributes"] == {}


@pytest.mark.parametrize("reason", ["USER_INITIATED", "EXCEEDED_MAX_REPROMPTS", "ERROR"])
def test_session_ended_request(reason):
    alexa = Envelopes()
    alexa.launch()
    alexa.carry({"sessionAttributes": {"k": 1}, "response": {"shouldEndSession": False}})
    event = alexa.session_ended(reason)
    assert event["request"]["type"] == "SessionEndedRequest"
    assert event["request"]["reason"] == reason
    assert ("error" in event["request"]) == (reason == "ERROR")
    assert event["session"]["attributes"] == {"k": 1}
    assert parse(event).request.reason.value == reason
    assert not alexa.session_open
    assert alexa.launch()["session"]["new"] is True


def test_session_ended_rejects_unknown_reasons():
    with pytest.raises(ValueError):
        Envelopes().session_ended("BORED")


def test_clock_can_be_fixed():
    event = Envelopes(clock=lambda: "2024-01-02T03:04:05Z").launch()
    assert event["request"]["timestamp"] == "2024-01-02T03:04:05Z"
