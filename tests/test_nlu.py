"""The simulator's NLU: typed text -> the intent and slots Alexa would send.

A small hand-made model pins down the matching rules; the real models check that every
sample utterance resolves back to its own intent, in every locale.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope
from hypothesis import given, settings
from hypothesis import strategies as st

from skill.alexa.context import slot_values
from simulator import nlu
from simulator.envelopes import Envelopes

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ("en-US", "en-CA", "en-GB", "en-AU", "en-IN")
SLOT = re.compile(r"\{([^{}]+)\}")

MINI = {"interactionModel": {"languageModel": {
    "invocationName": "leg numbness guide",
    "intents": [
        {"name": "AMAZON.FallbackIntent", "samples": []},
        {"name": "AMAZON.StopIntent", "samples": ["I'm done"]},
        {"name": "AMAZON.ResumeIntent", "samples": []},
        {"name": "AMAZON.YesIntent", "samples": []},
        {"name": "WhyIntent", "samples": ["why does my leg fall asleep", "what is happening"]},
        {"name": "MoreIntent", "samples": ["keep going", "more"]},
        {"name": "TopicIntent", "slots": [{"name": "topic", "type": "TOPIC"}],
         "samples": ["{topic}", "tell me about {topic}", "what is {topic}",
                     "ask about {topic}"]},
        {"name": "QuestionIntent", "slots": [{"name": "query", "type": "AMAZON.SearchQuery"}],
         "samples": ["I have a question {query}", "ask about {query}"]},
        {"name": "WalkIntent", "slots": [{"name": "minutes", "type": "AMAZON.NUMBER"}],
         "samples": ["walk for {minutes} minutes"]},
    ],
    "types": [{"name": "TOPIC", "values": [
        {"id": "sciatic_nerve", "name": {"value": "the sciatic nerve",
                                         "synonyms": ["sciatica", "sciatic nerve"]}},
        {"id": "ms", "name": {"value": "multiple sclerosis", "synonyms": ["m. s.", "nerves"]}},
        {"id": "nerves", "name": {"value": "the nervous system", "synonyms": ["nerves"]}},
    ]}],
}}}


@pytest.fixture(scope="module")
def mini():
    return nlu.Resolver(MINI)


# --------------------------------------------------------------------------- normalizing

@pytest.mark.parametrize("typed, heard", [
    ("Why does my leg fall asleep?", "why does my leg fall asleep"),
    ("Alexa, why’s my LEG numb!!", "why's my leg numb"),
    ("hey alexa please tell me more please", "tell me more"),
    ("walk for 30 minutes", "walk for thirty minutes"),
    ("every 125 steps", "every one hundred twenty five steps"),
    ("pins & needles", "pins and needles"),
    ("what is M.S.", "what is ms"),
    ("cross-legged", "cross legged"),
    ("'quoted' words", "quoted words"),
    ("   ", ""),
    ("please", ""),
])
def test_normalize(typed, heard):
    assert nlu.normalize(typed) == heard


@pytest.mark.parametrize("n, words", [(0, "zero"), (7, "seven"), (13, "thirteen"),
                                      (40, "forty"), (99, "ninety nine"),
                                      (100, "one hundred"), (2024, "two thousand twenty four")])
def test_number_words(n, words):
    assert nlu.number_words(n) == words


# --------------------------------------------------------------------------- matching rules

def test_exact_sample(mini):
    result = mini.resolve("Why does my leg fall asleep?")
    assert (result.intent, result.slots, result.sample) == (
        "WhyIntent", {}, "why does my leg fall asleep")


def test_contractions_are_interchangeable(mini):
    assert mini.resolve("what's happening").intent == "WhyIntent"
    assert mini.resolve("what's the sciatic nerve").intent == "TopicIntent"


def test_custom_slot_resolves_synonyms_to_the_value_id(mini):
    slot = mini.resolve("tell me about sciatica").slots["topic"]
    assert slot["value"] == "sciatica"
    assert (slot["resolved_id"], slot["resolved_name"]) == ("sciatic_nerve", "the sciatic nerve")


def test_an_article_before_a_custom_value_is_tolerated(mini):
    assert mini.resolve("tell me about the sciatica").slots["topic"]["resolved_id"] == \
        "sciatic_nerve"
    assert mini.resolve("tell me about the sciatic nerve").slots["topic"]["resolved_id"] == \
        "sciatic_nerve"


def test_a_synonym_of_two_values_matches_both(mini):
    slot = mini.resolve("what is nerves").slots["topic"]
    assert [m["id"] for m in slot["matches"]] == ["ms", "nerves"]


def test_slot_only_sample_matches_known_values_only(mini):
    assert mini.resolve("sciatica").intent == "TopicIntent"
    assert mini.resolve("bananas").intent == nlu.FALLBACK_INTENT


def test_unknown_value_behind_a_carrier_phrase_is_no_match(mini):
    result = mini.resolve("tell me about bananas")
    assert result.intent == "TopicIntent"
    assert result.slots["topic"]["value"] == "bananas"
    assert result.slots["topic"]["matches"] == []
    assert "resolved_id" not in result.slots["topic"]


def test_search_query_takes_free_text(mini):
    result = mini.resolve("I have a question how long does it last")
    assert result.intent == "QuestionIntent"
    assert result.slots == {"query": {"value": "how long does it last",
                                      "type": "AMAZON.SearchQuery"}}


def test_known_value_beats_free_text_beats_unknown_value(mini):
    # "ask about {topic}" and "ask about {query}" share a carrier phrase
    assert mini.resolve("ask about sciatica").intent == "TopicIntent"
    assert mini.resolve("ask about bananas").intent == "QuestionIntent"
    assert mini.resolve("tell me about bananas").intent == "TopicIntent"  # no free-text rival


def test_other_builtin_slot_types_take_a_few_words(mini):
    result = mini.resolve("walk for 5 minutes")
    assert result.intent == "WalkIntent"
    assert result.slots["minutes"]["value"] == "five"


def test_model_samples_beat_alexas_own_builtin_samples(mini):
    assert mini.resolve("keep going").intent == "MoreIntent"   # also a ResumeIntent utterance
    assert mini.resolve("continue").intent == "AMAZON.ResumeIntent"  # Alexa's own sample
    assert mini.resolve("stop").intent == "AMAZON.StopIntent"
    assert mini.resolve("I'm done").intent == "AMAZON.StopIntent"


def test_builtin_samples_apply_only_to_declared_builtins(mini):
    assert mini.resolve("help").intent == nlu.FALLBACK_INTENT  # HelpIntent not in MINI


def test_nothing_matches_gives_fallback(mini):
    result = mini.resolve("order me a pizza")
    assert (result.intent, result.slots, result.sample) == (nlu.FALLBACK_INTENT, {}, None)
    assert mini.resolve("").intent == nlu.FALLBACK_INTENT


def test_resolution_lists_every_declared_slot(mini):
    assert mini.resolve("sciatica").slot_types == {"topic": "TOPIC"}


def test_resolution_for_a_given_intent(mini):
    result = mini.resolution_for("TopicIntent", {"topic": "Sciatica"})
    assert result.slots["topic"]["resolved_id"] == "sciatic_nerve"
    assert mini.resolution_for("TopicIntent", {"topic": "x"}).slots["topic"]["matches"] == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_text_resolves_to_an_intent_of_the_model(text):
    resolver = nlu.load_resolver("en-US")
    result = resolver.resolve(text)
    assert result.intent in resolver.intents
    assert set(result.slots) <= set(result.slot_types)


# --------------------------------------------------------------------------- Alexa's JSON

def test_request_slots_match(mini):
    slots = nlu.request_slots(mini.resolve("tell me about sciatica"), "amzn1.ask.skill.x")
    authority = {
        "authority": "amzn1.er-authority.echo-sdk.amzn1.ask.skill.x.TOPIC",
        "status": {"code": "ER_SUCCESS_MATCH"},
        "values": [{"value": {"name": "the sciatic nerve", "id": "sciatic_nerve"}}],
    }
    assert slots == {"topic": {
        "name": "topic", "value": "sciatica", "confirmationStatus": "NONE", "source": "USER",
        "resolutions": {"resolutionsPerAuthority": [authority]},
        "slotValue": {"type": "Simple", "value": "sciatica",
                      "resolutions": {"resolutionsPerAuthority": [authority]}},
    }}


def test_request_slots_no_match_and_empty(mini):
    slots = nlu.request_slots(mini.resolve("tell me about bananas"))
    (authority,) = slots["topic"]["resolutions"]["resolutionsPerAuthority"]
    assert authority["status"] == {"code": "ER_SUCCESS_NO_MATCH"}
    assert "values" not in authority
    empty = nlu.request_slots(mini.resolution_for("TopicIntent"))
    assert empty == {"topic": {"name": "topic", "confirmationStatus": "NONE"}}


def test_request_slots_search_query_has_no_resolutions(mini):
    slot = nlu.request_slots(mini.resolve("I have a question why"))["query"]
    assert slot["value"] == "why" and "resolutions" not in slot


@pytest.mark.parametrize("said, expected", [
    ("tell me about sciatica", ("sciatica", "sciatic_nerve", "the sciatic nerve")),
    ("tell me about bananas", ("bananas", None, None)),
    ("sciatica", ("sciatica", "sciatic_nerve", "the sciatic nerve")),
])
def test_the_skill_reads_the_slots_as_alexa_sends_them(mini, said, expected):
    """Round trip through ask-sdk's deserializer and the skill's own slot reader."""
    resolution = mini.resolve(said)
    event = Envelopes().intent(resolution.intent, nlu.request_slots(resolution))
    envelope = DefaultSerializer().deserialize(json.dumps(event), RequestEnvelope)
    value = slot_values(HandlerInput(request_envelope=envelope))["topic"]
    assert (value.raw, value.id, value.name) == expected


# --------------------------------------------------------------------------- invocation

@pytest.mark.parametrize("typed, expected", [
    ("open leg numbness guide", (True, "")),
    ("Alexa, launch Leg Numbness Guide", (True, "")),
    ("start the leg numbness guide", (True, "")),
    ("talk to leg numbness guide", (True, "")),
    ("ask leg numbness guide", (True, "")),
    ("leg numbness guide", (True, "")),
    ("ask leg numbness guide what is the sciatic nerve", (True, "what is the sciatic nerve")),
    ("ask leg numbness guide about diabetes", (True, "diabetes")),
    ("ask leg numbness guide to give me a stretch", (True, "give me a stretch")),
    ("ask leg numbness guide if I should see a doctor", (True, "i should see a doctor")),
    ("tell leg numbness guide my leg is numb", (True, "my leg is numb")),
    ("open leg numbness guide and tell me about MS", (True, "tell me about ms")),
    ("can you ask leg numbness guide why my leg falls asleep", (True, "why my leg falls asleep")),
    ("give me a stretch using leg numbness guide", (True, "give me a stretch")),
    ("why do I get pins and needles", (False, "why do i get pins and needles")),
    ("I wake up with pins and needles", (False, "i wake up with pins and needles")),
    ("what is pins and needles", (False, "what is pins and needles")),
    ("open the pod bay doors", (False, "open the pod bay doors")),
])
def test_split_invocation(typed, expected):
    assert nlu.split_invocation(typed) == expected


def test_inside_a_session_the_bare_name_is_not_an_invocation():
    assert nlu.split_invocation("leg numbness guide", in_session=True) == (
        False, "leg numbness guide")
    assert nlu.split_invocation("tips from leg numbness guide", in_session=True)[0] is False
    assert nlu.split_invocation("open leg numbness guide", in_session=True) == (True, "")


# --------------------------------------------------------------------------- real models

def _fill(sample: str, intent: dict, model: dict) -> str:
    """A sample with every slot replaced by a plausible spoken value."""
    types = {s["name"]: s["type"] for s in intent.get("slots", [])}
    values = {t["name"]: t["values"][0]["name"]["value"] for t in model["types"]}

    def value(match):
        slot_type = types[match.group(1)]
        return values.get(slot_type, "how long it lasts")

    return SLOT.sub(value, sample)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_sample_resolves_to_its_own_intent(locale):
    model = json.loads((ROOT / "skill-package" / "interactionModels" / "custom" / f"{locale}.json")
                       .read_text("utf-8"))
    language = model["interactionModel"]["languageModel"]
    resolver = nlu.load_resolver(locale)
    wrong = []
    for intent in language["intents"]:
        for sample in intent["samples"]:
            said = _fill(sample, intent, language)
            got = resolver.resolve(said)
            if got.intent != intent["name"]:
                wrong.append(f"{said!r} ({intent['name']}) -> {got.intent} via {got.sample!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("said, intent, slots", [
    ("why does my leg fall asleep", "WhyLegFallsAsleepIntent", {}),
    ("Alexa, why do my feet go numb?", "WhyLegFallsAsleepIntent", {}),
    ("what makes my foot fall asleep", "WhyLegFallsAsleepIntent", {}),
    ("why do I get pins and needles", "WhyLegFallsAsleepIntent", {}),
    ("tell me about sciatica", "TopicIntent", {"topic": "sciatic_nerve"}),
    ("what is multiple sclerosis", "TopicIntent", {"topic": "multiple_sclerosis"}),
    ("how does diabetes cause numbness", "TopicIntent", {"topic": "diabetes"}),
    ("I have a question does coffee help", "QuestionIntent", {}),
    ("tell me more", "TellMeMoreIntent", {}),
    ("keep going", "AMAZON.ResumeIntent", {}),  # outside a stretch, answered as tell me more
    ("stop", "AMAZON.StopIntent", {}),
    ("what can you do", "AMAZON.HelpIntent", {}),
    ("order me a pizza", "AMAZON.FallbackIntent", {}),
])
def test_key_phrases_in_the_real_model(said, intent, slots):
    result = nlu.load_resolver("en-US").resolve(said)
    assert result.intent == intent
    assert {k: v.get("resolved_id") for k, v in result.slots.items() if k in slots} == slots


def test_locale_extras_resolve_only_in_their_locale():
    said = "why's my leg gone dead"
    assert nlu.load_resolver("en-GB").resolve(said).intent == "WhyLegFallsAsleepIntent"
    assert nlu.load_resolver("en-US").resolve(said).intent != "WhyLegFallsAsleepIntent"
