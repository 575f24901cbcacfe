"""The safety intents in the interaction model: breadth, safe carriers, values that triage.

Why these checks: triage only sees slot values. A sample whose carrier phrase swallows the
meaning ("I can't {description}" leaves "move my leg") or a red-flag phrase that the model
sends to an intent without a slot would silently route around the red-flag handler.
"""

import json
import re
from pathlib import Path

import pytest

from skill.dialog import locales, triage
from simulator import nlu

ROOT = Path(__file__).resolve().parents[1]
FRAGMENT = json.loads((ROOT / "interaction_models/source/safety.json").read_text("utf-8"))
INTENTS = {i["name"]: i for i in FRAGMENT["intents"]}
CORE = json.loads((ROOT / "interaction_models/source/core.json").read_text("utf-8"))
QUESTION_SAMPLES = next(i for i in CORE["intents"] if i["name"] == "QuestionIntent")["samples"]
SLOT = re.compile(r"\{(\w+)\}")

# Words a carrier phrase must never contain: they carry the meaning triage needs.
MEANINGFUL = {"can't", "cannot", "cant", "not", "no", "never", "don't", "won't", "isn't",
              "face", "speech", "bladder", "bowel", "severe", "sudden", "confused", "weak",
              "move", "walk", "hours", "slurred", "drooping", "paralyzed", "lost", "keep",
              "keeps", "always", "still"}

# Expected triage level of each SYMPTOM value id (its name and every synonym).
SYMPTOM_LEVELS = {
    "face_drooping": "emergency", "slurred_speech": "emergency", "confusion": "emergency",
    "bladder_bowel": "emergency", "continuous_numbness": "urgent", "mobility": "urgent",
    "severe_pain": "urgent", "recurring": "routine", "diabetes": "routine",
    "multiple_sclerosis": "routine", "circulation": "routine", "back_nerve": "routine",
    "leg_asleep": "none",
}

# Slot-less samples that are red-flag phrases, so the red-flag handler never sees them.
# Each entry is a known problem owned elsewhere; the test fails once it is fixed, so the
# entry gets removed, and fails if a new one appears.
KNOWN_SLOTLESS_RED_FLAGS: set[tuple[str, str]] = set()


def model(locale: str) -> dict:
    data = json.loads((ROOT / f"skill-package/interactionModels/custom/{locale}.json")
                      .read_text("utf-8"))
    return data["interactionModel"]["languageModel"]


def test_enough_broad_samples():
    symptom = INTENTS["DescribeSymptomIntent"]["samples"] + INTENTS["SymptomStoryIntent"]["samples"]
    assert len(symptom) >= 60
    assert len(INTENTS["DoctorCheckIntent"]["samples"]) >= 30
    unsure = {s.lower() for s in INTENTS["UnsureIntent"]["samples"]}
    assert {"i'm not sure", "maybe", "i don't know"} <= unsure
    doctor = {s.lower() for s in INTENTS["DoctorCheckIntent"]["samples"]}
    assert {"should i see a doctor", "do i need a doctor", "is this serious"} <= doctor


def test_slots_are_as_the_architecture_says():
    assert INTENTS["DescribeSymptomIntent"]["slots"] == [{"name": "symptom", "type": "SYMPTOM"}]
    assert INTENTS["SymptomStoryIntent"]["slots"] == [
        {"name": "description", "type": "AMAZON.SearchQuery"}]


@pytest.mark.parametrize("sample", INTENTS["SymptomStoryIntent"]["samples"]
                         + QUESTION_SAMPLES)
def test_free_text_carriers_keep_the_meaning_in_the_slot(sample):
    carrier = SLOT.sub(" ", sample).lower().split()
    assert carrier, "a SearchQuery slot needs a carrier phrase"
    assert not MEANINGFUL & set(carrier), sample


def test_symptom_values_triage_to_their_level():
    types = {t["name"]: t for t in FRAGMENT["types"]}
    values = types["SYMPTOM"]["values"]
    assert {v["id"] for v in values} == set(SYMPTOM_LEVELS)
    wrong = []
    for value in values:
        for text in [value["name"]["value"], *value["name"].get("synonyms", [])]:
            got = triage.assess(text, question=False).level
            if got != SYMPTOM_LEVELS[value["id"]]:
                wrong.append(f"{value['id']}: {text!r} -> {got}")
    assert not wrong, "\n".join(wrong)


def test_symptom_values_follow_alexa_rules():
    token = re.compile(r"^[A-Za-z]+(?:'[A-Za-z]*)*$|^(?:[A-Za-z]\.)+$")
    for value in FRAGMENT["types"][0]["values"]:
        for text in [value["name"]["value"], *value["name"].get("synonyms", [])]:
            assert all(token.match(t) for t in text.split()), text


@pytest.mark.parametrize("locale", locales.supported())
def test_no_slotless_sample_is_a_red_flag(locale):
    found, checked = set(), set()
    for intent in model(locale)["intents"]:
        if intent.get("slots"):
            continue
        checked.add(intent["name"])
        for sample in intent["samples"]:
            if triage.assess(sample).alarm:
                found.add((intent["name"], sample))
    assert {"AMAZON.PauseIntent", "AMAZON.YesIntent", "UnsureIntent", "SkipStepIntent"} <= checked
    assert found == KNOWN_SLOTLESS_RED_FLAGS, (
        "a red-flag phrase is a sample of an intent without a slot, so triage never sees "
        f"it: {sorted(found - KNOWN_SLOTLESS_RED_FLAGS)}; fixed: "
        f"{sorted(KNOWN_SLOTLESS_RED_FLAGS - found)}")



@pytest.mark.parametrize("words", ["give me five minutes", "yes for a while"])
def test_control_phrasings_kept_out_of_slotless_intents_would_be_caught(words):
    """The control samples refused for this reason read as lasting numbness, so the check
    above would name them (it can fail)."""
    assert triage.assess(words).alarm

ISSUE_EXAMPLES = [
    ("my face is drooping", "emergency"), ("I can't control my bladder", "emergency"),
    ("my leg has been numb for hours", "urgent"), ("I can't move my leg", "urgent"),
    ("slurred speech", "emergency"), ("I wet myself", "emergency"),
    ("my leg gave out", "urgent"), ("the pain is unbearable", "urgent"),
    ("can slurred speech happen with this", "emergency"),
]


@pytest.mark.parametrize("locale", locales.supported())
@pytest.mark.parametrize("said, level", ISSUE_EXAMPLES)
def test_issue_examples_reach_triage_through_the_model(locale, said, level):
    resolution = nlu.load_resolver(locale).resolve(said)
    texts = [t for s in resolution.slots.values()
             for t in (s.get("value"), s.get("resolved_name")) if t]
    assessment = triage.assess_all(texts, question=triage.question_hint(resolution.intent))
    assert triage.preempting_level(assessment, resolution.intent) == level, \
        (resolution.intent, texts)


@pytest.mark.parametrize("said, intent", [
    ("should I see a doctor", "DoctorCheckIntent"), ("is this serious", "DoctorCheckIntent"),
    ("I'm not sure", "UnsureIntent"), ("maybe", "UnsureIntent"),
    ("my leg fell asleep on the toilet", "SymptomStoryIntent"),
    ("what is multiple sclerosis", "TopicIntent"),
])
def test_key_safety_phrases_resolve(said, intent):
    assert nlu.load_resolver("en-US").resolve(said).intent == intent


def test_locale_extras():
    assert nlu.load_resolver("en-GB").resolve("should I see my GP").intent == \
        "DoctorCheckIntent"
    assert nlu.load_resolver("en-US").resolve("should I see my GP").intent != \
        "DoctorCheckIntent"


@pytest.mark.parametrize("locale", locales.supported())
@pytest.mark.parametrize("said", ["should I go to the hospital", "should I go to the E.R.",
                                  "should I call an ambulance"])
def test_asking_about_emergency_care_gets_urgent_guidance(locale, said):
    resolution = nlu.load_resolver(locale).resolve(said)
    texts = [s.get("value") for s in resolution.slots.values() if s.get("value")]
    assert triage.preempting_level(triage.assess_all(texts), resolution.intent) == "urgent"
