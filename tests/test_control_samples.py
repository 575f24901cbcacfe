"""The samples of the slotless controls (next, pause, yes, not sure...) never hide a red flag.

Triage reads the words of a request's slots; an intent without slots brings it none. So a
sample of such an intent that would be urgent or an emergency as free text ("give me five
minutes" reads as numbness lasting minutes) would keep those words from triage whenever Alexa
matched it. These intents' samples are checked as triage would read them, in every locale."""

import json
from pathlib import Path

import pytest

from skill.dialog import triage

MODELS = Path(__file__).resolve().parents[1] / "skill-package" / "interactionModels" / "custom"
ALARMING = {"urgent", "emergency"}


def _slotless_samples():
    for model_path in sorted(MODELS.glob("*.json")):
        model = json.loads(model_path.read_text("utf-8"))["interactionModel"]["languageModel"]
        for intent in model["intents"]:
            if not intent.get("slots"):
                for sample in intent["samples"]:
                    yield model_path.stem, intent["name"], sample


def test_there_are_slotless_samples_to_check():
    names = {name for _, name, _ in _slotless_samples()}
    assert {"AMAZON.PauseIntent", "AMAZON.YesIntent", "UnsureIntent", "SkipStepIntent"} <= names


def test_no_slotless_sample_is_a_red_flag():
    hidden = [(locale, name, sample) for locale, name, sample in _slotless_samples()
              if triage.assess(sample).level in ALARMING]
    assert hidden == []


@pytest.mark.parametrize("words", ["give me five minutes", "my face is drooping"])
def test_the_check_can_fail(words):
    assert triage.assess(words).level in ALARMING
