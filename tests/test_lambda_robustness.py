"""Every request gets a valid, spoken response: bad input never becomes an exception.

All through the real `lambda_handler` with real request envelopes. Hypothesis generates
envelopes (any intent name, any slots, any unicode, any session attributes) to show it.
"""

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skill.dialog import ssml
from simulator.envelopes import Envelopes

INTENTS = [
    "WhyLegFallsAsleepIntent", "TopicIntent", "QuestionIntent", "TellMeMoreIntent",
    "DescribeSymptomIntent", "SymptomStoryIntent", "DoctorCheckIntent", "UnsureIntent",
    "StartRoutineIntent", "StepsLeftIntent", "SkipStepIntent", "DiscomfortIntent",
    "AMAZON.HelpIntent", "AMAZON.StopIntent", "AMAZON.CancelIntent", "AMAZON.FallbackIntent",
    "AMAZON.NavigateHomeIntent", "AMAZON.RepeatIntent", "AMAZON.StartOverIntent",
    "AMAZON.YesIntent", "AMAZON.NoIntent", "AMAZON.NextIntent", "AMAZON.PreviousIntent",
    "AMAZON.PauseIntent", "AMAZON.ResumeIntent", "NoSuchIntent", "AMAZON.ShuffleOnIntent",
]
SLOT_NAMES = ["topic", "query", "symptom", "description", "variant", "feeling", "bogus"]


def envelopes(**kwargs) -> Envelopes:
    return Envelopes(locale=kwargs.pop("locale", "en-US"),
                     user_id="amzn1.ask.account.robustness", **kwargs)


def spoken(response: dict) -> str:
    return ssml.to_plain_text(response["response"].get("outputSpeech", {}).get("ssml", ""))


def assert_valid_spoken(response: dict) -> None:
    json.dumps(response)
    body = response["response"]
    assert response["version"] == "1.0"
    assert spoken(response), f"no speech in {body}"
    if body.get("shouldEndSession") is False:
        assert spoken({"response": body["reprompt"]}), "open session without a reprompt"


def slot(name: str, value) -> dict:
    return {name: {"name": name, "value": value, "confirmationStatus": "NONE"}}


@pytest.mark.parametrize("intent", INTENTS)
def test_every_intent_without_slots_is_answered(lambda_handler, intent):
    assert_valid_spoken(lambda_handler(envelopes().intent(intent, {}), None))


@pytest.mark.parametrize("value", [
    None, "", "   ", "x" * 5000, "🦵💤" * 50, "\u0000\u202e\ufeff", "<speak>&amp;</speak>",
    "Leg \u00e9\u0301 \u4e2d\u6587 \u0639\u0631\u0628\u064a", "'; DROP TABLE users; --",
])
@pytest.mark.parametrize("intent,slot_name", [
    ("TopicIntent", "topic"), ("QuestionIntent", "query"), ("SymptomStoryIntent", "description"),
    ("DescribeSymptomIntent", "symptom"), ("StartRoutineIntent", "variant"),
])
def test_odd_slot_values_get_a_helpful_reply(lambda_handler, intent, slot_name, value):
    response = lambda_handler(envelopes().intent(intent, slot(slot_name, value)), None)
    assert_valid_spoken(response)
    assert "&amp;amp;" not in response["response"]["outputSpeech"]["ssml"]


@pytest.mark.parametrize("attributes", [
    {"pins_and_needles": "garbage"},
    {"pins_and_needles": {"v": 99}},
    {"pins_and_needles": {"v": 1, "mode": "routine", "routine": {"step": 999, "variant": "x"}}},
    {"pins_and_needles": {"v": 1, "mode": "doctor_check", "doctor": {"question": -4}}},
    {"pins_and_needles": {"v": 1, "mode": "topic", "topic": "no_such_topic",
                          "passage_index": 7, "pending": "topic:nowhere"}},
    {"pins_and_needles": {"v": 1, "passage_index": True}},
    {"pins_and_needles": {"v": 1, "last_speech": ["not", "a", "string"]}},
    {"persistent": "not a dict"},
    [],
])
@pytest.mark.parametrize("intent", [
    "AMAZON.YesIntent", "AMAZON.NoIntent", "TellMeMoreIntent", "AMAZON.RepeatIntent",
    "AMAZON.NextIntent", "AMAZON.HelpIntent", "UnsureIntent", "AMAZON.ResumeIntent",
])
def test_tampered_session_attributes_restart_politely(lambda_handler, attributes, intent):
    env = envelopes()
    event = env.intent(intent, {})
    event["session"]["new"] = False
    event["session"]["attributes"] = attributes
    assert_valid_spoken(lambda_handler(event, None))


def test_launch_and_session_end(lambda_handler):
    env = envelopes()
    assert_valid_spoken(lambda_handler(env.launch(), None))
    ended = lambda_handler(env.session_ended("ERROR"), None)
    assert "outputSpeech" not in ended["response"]


def test_an_unknown_request_type_gets_a_valid_empty_response(lambda_handler):
    event = envelopes().launch()
    event["request"]["type"] = "Alexa.Presentation.APL.UserEvent"
    response = lambda_handler(event, None)
    assert response["version"] == "1.0"
    assert "outputSpeech" not in response["response"]


@pytest.mark.parametrize("event", [{}, {"version": "1.0"}, {"request": "nope"}, [], "text"])
def test_something_that_is_not_an_envelope_still_gets_a_response(lambda_handler, event):
    assert_valid_spoken(lambda_handler(event, None))


def test_skill_id_is_enforced_only_when_configured(monkeypatch):
    from skill.alexa.builder import build_skill

    env = envelopes()
    event = env.launch()
    from ask_sdk_core.exceptions import AskSdkException
    from ask_sdk_model import RequestEnvelope

    skill = build_skill(skill_id="amzn1.ask.skill.ours")
    request = skill.serializer.deserialize(json.dumps(event), RequestEnvelope)
    with pytest.raises(AskSdkException):
        skill.invoke(request, None)
    event["context"]["System"]["application"]["applicationId"] = "amzn1.ask.skill.ours"
    event["session"]["application"]["applicationId"] = "amzn1.ask.skill.ours"
    request = skill.serializer.deserialize(json.dumps(event), RequestEnvelope)
    assert skill.invoke(request, None).response.output_speech is not None


text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
slot_values = st.dictionaries(
    st.sampled_from(SLOT_NAMES),
    st.one_of(st.none(), text, st.sampled_from(["sciatica", "my face is drooping", "seated"])),
    max_size=3,
)
session_attributes = st.one_of(
    st.just({}),
    st.dictionaries(st.sampled_from(["pins_and_needles", "persistent", "other"]),
                    st.recursive(st.none() | st.booleans() | st.integers() | text,
                                 lambda inner: st.lists(inner, max_size=3)
                                 | st.dictionaries(st.text(string.ascii_lowercase, max_size=10),
                                                   inner, max_size=4),
                                 max_leaves=10),
                    max_size=3),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(intent=st.sampled_from(INTENTS), slots=slot_values, attributes=session_attributes,
       locale=st.sampled_from(["en-US", "en-GB", "en-CA", "en-AU", "en-IN", "fr-FR", ""]),
       new=st.booleans())
def test_fuzzed_envelopes_always_get_a_valid_reply(lambda_handler, intent, slots, attributes,
                                                   locale, new):
    env = envelopes(locale=locale or "en-US")
    event = env.intent(intent, {name: slot(name, value)[name] for name, value in slots.items()})
    event["request"]["locale"] = locale
    event["session"]["new"] = new
    event["session"]["attributes"] = attributes
    response = lambda_handler(event, None)
    assert_valid_spoken(response)
    assert len(json.dumps(response)) <= 24 * 1024
