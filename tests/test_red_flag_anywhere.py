"""Property: a red flag in any slot of any intent, in any conversation state, gets guidance.

Driven through the real `lambda_function.lambda_handler` with real request envelopes, so
it checks the whole chain: handler registration order (safety first), slot reading
(heard and resolved values), triage, guidance and the locale's number. Hypothesis picks
the locale, the state the conversation is in (one-shot, after launch, mid-answer,
mid-check at any question, mid-stretch at any step, after an offer, after a damaged
session), the intent and slot, and the wording around the red flag.
"""

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skill.dialog import doctor_check, ssml
from simulator import nlu
from simulator.envelopes import Envelopes

NUMBERS = {"en-US": "911", "en-CA": "911", "en-GB": "999", "en-AU": "000", "en-IN": "112"}

EMERGENCY_PHRASES = [
    "my face is drooping", "one side of my face is drooping", "slurred speech",
    "I'm slurring my words", "he can't talk properly", "I feel confused",
    "my mum is suddenly confused", "I can't control my bladder", "I wet myself",
    "I pooped my pants", "numbness in my groin", "I had an accident in my pants",
    "my smile is crooked", "I can't get my words out", "I lost control of my bowels",
]
URGENT_PHRASES = [
    "my leg has been numb for hours", "the numbness won't go away", "I can't move my leg",
    "my leg gave out", "I can't walk", "my leg is paralyzed", "the pain is unbearable",
    "excruciating pain", "my foot has been asleep since yesterday", "I'm in agony",
    "my leg is still numb after two hours", "I can't put weight on my leg",
]
ORDINARY_PHRASES = [
    "my leg fell asleep on the toilet", "my foot went numb after sitting cross legged",
    "it tingles when I sit too long", "pins and needles in my foot",
    "my foot fell asleep while I was driving",
]
PREFIXES = ["", "um ", "well ", "so ", "oh and ", "I think ", "also "]
SUFFIXES = ["", " please", " right now", " what do I do", " is that bad"]
STATES = ["fresh", "launched", "topic", "check", "routine", "offer", "damaged", "confirming"]
# What the stand-in detector suspects (skill/dialog/safety.py): the "confirming" state is a
# conversation waiting on the one yes/no question about a suspected sign.
SUSPICIOUS = "dad seems a bit off today"


class _Suspicion:
    flag, score = "confusion", 1.0


@pytest.fixture(autouse=True)
def stand_in_detector():
    from skill.dialog import safety

    safety.use_detector(lambda text: _Suspicion() if "a bit off" in text else None)
    yield
    safety.use_detector(None)


TYPED_BUILTINS = {"AMAZON.DURATION", "AMAZON.TIME", "AMAZON.DATE", "AMAZON.NUMBER"}


@pytest.fixture(scope="module")
def slotted_intents():
    """(intent, slot) for every slot of every intent in the generated model that can carry
    words. Alexa fills AMAZON.DURATION / TIME / DATE / NUMBER slots with typed values
    ("PT45M", "09:00"), never with what was said, so a phrase cannot arrive in one."""
    model = json.loads((nlu.MODEL_DIR / "en-US.json").read_text("utf-8"))
    intents = model["interactionModel"]["languageModel"]["intents"]
    pairs = [(i["name"], s["name"]) for i in intents for s in i.get("slots", [])
             if s["type"] not in TYPED_BUILTINS]
    assert len(pairs) >= 6 and ("SymptomStoryIntent", "description") in pairs
    return pairs


class Device:
    """One simulated user talking to the real handler."""

    def __init__(self, handler, locale: str):
        self.handler = handler
        self.locale = locale
        self.resolver = nlu.load_resolver(locale)
        self.alexa = Envelopes(locale=locale, user_id=f"amzn1.ask.account.prop-{uuid.uuid4()}")

    def send(self, event: dict) -> dict:
        response = self.handler(event, None)
        self.alexa.carry(response)
        return response

    def launch(self) -> dict:
        self.alexa.new_session()
        return self.send(self.alexa.launch())

    def intent(self, name: str, values: dict | None = None) -> dict:
        if self.alexa.ended:
            self.alexa.new_session()
        resolution = self.resolver.resolution_for(name, values or {})
        return self.send(self.alexa.intent(name, nlu.request_slots(resolution)))


def speech(response: dict) -> str:
    return ssml.to_plain_text(response["response"]["outputSpeech"]["ssml"])


def enter(device: Device, state: str, depth: int) -> None:
    """Bring the conversation into `state` through real requests."""
    if state == "fresh":
        return
    device.launch()
    if state == "topic":
        device.intent("TopicIntent", {"topic": "sciatica"})
    elif state == "check":
        device.intent("DoctorCheckIntent")
        for _ in range(depth % len(doctor_check.questions())):
            device.intent("AMAZON.NoIntent")
        assert "?" in speech(device.intent("AMAZON.RepeatIntent"))
    elif state == "routine":
        device.intent("StartRoutineIntent", {"variant": "seated"})
        for _ in range(depth % 5):
            device.intent("AMAZON.NextIntent")
    elif state == "offer":
        device.intent("SymptomStoryIntent", {"description": "fell asleep on the toilet"})
    elif state == "confirming":
        asked = device.intent("SymptomStoryIntent", {"description": SUSPICIOUS})
        assert speech(asked).startswith("Just to check"), speech(asked)
    elif state == "damaged":
        device.alexa.attributes = {"pins_and_needles": {"v": 1, "mode": "doctor_check",
                                                        "doctor": {"v": 1, "step": 99}}}


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(locale=st.sampled_from(sorted(NUMBERS)), state=st.sampled_from(STATES),
       depth=st.integers(0, 20), data=st.data(),
       level=st.sampled_from(["emergency", "urgent"]),
       prefix=st.sampled_from(PREFIXES), suffix=st.sampled_from(SUFFIXES))
def test_a_red_flag_anywhere_gets_guidance(lambda_handler, slotted_intents, locale, state,
                                           depth, data, level, prefix, suffix):
    phrases = EMERGENCY_PHRASES if level == "emergency" else URGENT_PHRASES
    phrase = prefix + data.draw(st.sampled_from(phrases)) + suffix
    intent, slot = data.draw(st.sampled_from(slotted_intents))
    device = Device(lambda_handler, locale)
    enter(device, state, depth)

    response = device.intent(intent, {slot: phrase})
    said = speech(response)
    number = NUMBERS[locale]
    where = f"{phrase!r} in {intent}.{slot} while {state} ({locale}) -> {said!r}"
    assert response["response"]["shouldEndSession"] is True, where
    if level == "emergency":
        assert said.startswith(f"Call {number} now."), where
        assert response["response"]["card"]["title"] == f"Call {number} now", where
    else:
        assert "today" in said and number in said, where


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(locale=st.sampled_from(sorted(NUMBERS)), state=st.sampled_from(STATES),
       depth=st.integers(0, 20), phrase=st.sampled_from(ORDINARY_PHRASES))
def test_an_ordinary_story_anywhere_never_alarms(lambda_handler, locale, state, depth, phrase):
    device = Device(lambda_handler, locale)
    enter(device, state, depth)
    response = device.intent("SymptomStoryIntent", {"description": phrase})
    said = speech(response)
    assert said, "never an empty reply"
    assert not said.startswith("Call") and NUMBERS[locale] not in said, said
    assert response["response"].get("shouldEndSession") is not True, said


def test_the_property_can_fail(lambda_handler):
    """A request with no red flag does not get guidance: the checks above have teeth."""
    device = Device(lambda_handler, "en-US")
    device.launch()
    response = device.intent("QuestionIntent", {"query": "why does my leg fall asleep"})
    assert not speech(response).startswith("Call 911 now.")
