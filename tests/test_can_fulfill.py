"""Name-free interaction (issue 11, item 11): CanFulfillIntentRequest through the real
`lambda_handler`, answered YES / MAYBE / NO per intent and slot, with no speech, no card,
no session state and no write to long-term memory; and the manifest declares it."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from simulator.envelopes import Envelopes

REPO = Path(__file__).resolve().parent.parent
USER = "amzn1.ask.account.canfulfill"


def can_fulfill(lambda_handler, intent: str, slots: dict | None = None, *,
                resolved: dict | None = None) -> dict:
    event = Envelopes(user_id=USER).intent(intent, slots or {})
    for name, value_id in (resolved or {}).items():
        event["request"]["intent"]["slots"][name]["resolutions"] = {
            "resolutionsPerAuthority": [{
                "authority": f"amzn1.er-authority.echo-sdk.x.{name}",
                "status": {"code": "ER_SUCCESS_MATCH"},
                "values": [{"value": {"name": value_id, "id": value_id}}]}]}
    event["request"]["type"] = "CanFulfillIntentRequest"
    event["request"].pop("dialogState", None)
    response = lambda_handler(event, None)
    body = response["response"]
    assert "outputSpeech" not in body and "card" not in body and "reprompt" not in body
    assert "directives" not in body
    return body["canFulfillIntent"]


@pytest.mark.parametrize("intent", ["WhyLegFallsAsleepIntent", "DoctorCheckIntent"])
def test_slotless_one_shot_intents_are_yes(lambda_handler, intent):
    assert can_fulfill(lambda_handler, intent) == {"canFulfill": "YES"}


@pytest.mark.parametrize("intent,slots,resolved", [
    ("TopicIntent", {"topic": "sciatica"}, {"topic": "sciatica"}),
    ("TopicIntent", {"topic": "multiple sclerosis"}, None),  # our own synonyms
    ("QuestionIntent", {"query": "can diabetes make my feet numb"}, None),
    ("DescribeSymptomIntent", {"symptom": "my face is drooping"}, None),
    ("SymptomStoryIntent", {"description": "I can't move my leg"}, None),
    ("StartRoutineIntent", {"variant": "at my desk"}, None),
])
def test_recognised_slot_values_are_yes(lambda_handler, intent, slots, resolved):
    answer = can_fulfill(lambda_handler, intent, slots, resolved=resolved)
    name = next(iter(slots))
    assert answer == {"canFulfill": "YES",
                      "slots": {name: {"canUnderstand": "YES", "canFulfill": "YES"}}}


@pytest.mark.parametrize("intent,slots", [
    ("TopicIntent", {"topic": "quantum chromodynamics"}),
    ("QuestionIntent", {"query": "what is the capital of peru"}),
    ("StartRoutineIntent", {"variant": "underwater"}),
])
def test_unrecognised_slot_values_are_maybe(lambda_handler, intent, slots):
    answer = can_fulfill(lambda_handler, intent, slots)
    name = next(iter(slots))
    assert answer == {"canFulfill": "MAYBE",
                      "slots": {name: {"canUnderstand": "MAYBE", "canFulfill": "YES"}}}


@pytest.mark.parametrize("intent", [
    "TellMeMoreIntent", "SkipStepIntent", "StepsLeftIntent", "UnsureIntent",
    "AMAZON.NextIntent", "AMAZON.YesIntent", "AMAZON.HelpIntent", "AMAZON.StopIntent",
    "AMAZON.FallbackIntent", "PlaySoundIntent",
])
def test_contextual_built_in_and_foreign_intents_are_no(lambda_handler, intent):
    assert can_fulfill(lambda_handler, intent)["canFulfill"] == "NO"


def test_a_foreign_intents_slots_are_not_understood(lambda_handler):
    answer = can_fulfill(lambda_handler, "PlaySoundIntent", {"Sound": "crickets"})
    assert answer == {"canFulfill": "NO",
                      "slots": {"Sound": {"canUnderstand": "NO", "canFulfill": "NO"}}}


def test_no_state_changes_and_no_memory_writes(lambda_handler):
    path = os.environ["SKILL_SQLITE_PATH"]
    user = "amzn1.ask.account.canfulfill-memory"
    env = Envelopes(user_id=user)
    event = env.intent("StartRoutineIntent", {"variant": "seated"})
    event["request"]["type"] = "CanFulfillIntentRequest"
    event["session"]["attributes"] = {"pins_and_needles": {"v": 1, "mode": "idle"}}
    response = lambda_handler(event, None)
    assert response.get("sessionAttributes", {}) in ({}, event["session"]["attributes"])
    with sqlite3.connect(path) as raw:
        rows = raw.execute("SELECT count(*) FROM skill_attributes WHERE id = ?",
                           (user,)).fetchone()
    assert rows == (0,)
    # ...and the launch afterwards is still a first launch (the disclaimer is read).
    launch = lambda_handler(Envelopes(user_id=user).launch(), None)
    assert "not a substitute" in launch["response"]["outputSpeech"]["ssml"]


def test_the_manifest_declares_can_fulfill_intent_request():
    manifest = json.loads((REPO / "skill-package" / "skill.json").read_text())
    interfaces = manifest["manifest"]["apis"]["custom"]["interfaces"]
    assert {"type": "CAN_FULFILL_INTENT_REQUEST"} in interfaces
