"""The stretch routine through the real `lambda_handler`, as Alexa would drive it.

Every response of the routine, on voice-only and screen devices, must be something Alexa
accepts: well-formed SSML, no break over 10 s, speech within 8,000 characters, and a whole
response envelope within 24 KB. Memory goes through the real SQLite store set up in
conftest, so "stop now, resume next session" is tested end to end.
"""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET

import pytest

from skill.dialog import routine, ssml
from simulator.envelopes import Envelopes

BREAK = re.compile(r'<break time="(\d+(?:\.\d+)?)(ms|s)"/>')
APL_DIRECTIVE = "Alexa.Presentation.APL.RenderDocument"
MAX_RESPONSE_BYTES = 24 * 1024


def check_response(response: dict, *, screen: bool) -> dict:
    """Alexa's limits on one response; returns its `response` body."""
    size = len(json.dumps(response, separators=(",", ":")).encode("utf-8"))
    assert size <= MAX_RESPONSE_BYTES, f"response is {size} bytes"
    body = response["response"]
    for speech in (body.get("outputSpeech"), (body.get("reprompt") or {}).get("outputSpeech")):
        if speech is None:
            continue
        assert speech["type"] == "SSML"
        text = speech["ssml"]
        root = ET.fromstring(text)  # well-formed
        assert root.tag == "speak"
        assert len(text) <= 8000
        for amount, unit in BREAK.findall(text):
            assert float(amount) / (1000 if unit == "ms" else 1) <= 10
        assert text.count("<break") == len(BREAK.findall(text))
    assert "outputSpeech" in body
    if body.get("shouldEndSession") is False:
        assert body.get("reprompt"), "an open session needs a reprompt"
    for directive in body.get("directives", []):
        if directive["type"] == APL_DIRECTIVE:
            assert screen, "no APL for a voice-only device"
    return body


def speech_of(body: dict) -> str:
    return ssml.to_plain_text(body["outputSpeech"]["ssml"])


def apl_of(body: dict) -> dict | None:
    return next((d for d in body.get("directives", []) if d["type"] == APL_DIRECTIVE), None)


class Device:
    """One simulated user on one device, talking to the real lambda handler."""

    def __init__(self, handler, *, screen: bool = False, user_id: str | None = None):
        self.handler = handler
        self.screen = screen
        self.alexa = Envelopes(user_id=user_id or f"amzn1.ask.account.test-{uuid.uuid4()}",
                               screen=screen)

    def send(self, event: dict) -> dict:
        response = self.handler(event, None)
        self.alexa.carry(response)
        return check_response(response, screen=self.screen)

    def intent(self, name: str, slots: dict | None = None) -> dict:
        return self.send(self.alexa.intent(name, slots))

    def launch(self) -> dict:
        self.alexa.new_session()
        return self.send(self.alexa.launch())


def test_routine_handlers_are_registered_in_order():
    """After safety and the doctor check (red flags first), before the core handlers."""
    from skill.alexa import builder, handlers, routine_handlers

    registered = list(builder.request_handlers())
    positions = [registered.index(h) for h in routine_handlers.HANDLERS]
    assert positions == sorted(positions), "routine handlers keep their own order"
    assert max(positions) < registered.index(handlers.CORE_HANDLERS[0])
    for module_name in ("safety_handlers", "doctor_handlers"):
        try:
            module = __import__(f"skill.alexa.{module_name}", fromlist=["HANDLERS"])
        except ImportError:
            continue
        feature = [h for h in registered if type(h).__module__ == module.__name__]
        if feature:
            assert max(registered.index(h) for h in feature) < min(positions), module_name


@pytest.mark.parametrize("screen", [False, True], ids=["voice", "screen"])
@pytest.mark.parametrize("variant", ["seated", "standing"])
def test_every_step_of_the_routine_is_a_valid_response(lambda_handler, variant, screen):
    device = Device(lambda_handler, screen=screen)
    body = device.intent("StartRoutineIntent", {"variant": variant})
    total = len(routine.steps(variant))
    for number in range(1, total + 1):
        assert f"Step {number} of {total}" in speech_of(body)
        assert body["shouldEndSession"] is False
        assert body["card"]["title"].startswith(f"{variant.capitalize()} stretch: step {number}")
        directive = apl_of(body)
        assert (directive is not None) == screen
        if screen:
            payload = directive["datasources"]["payload"]
            assert payload["progressText"] == f"Step {number} of {total}"
            assert payload["stepName"] == routine.steps(variant)[number - 1]["name"]
            assert directive["document"]["type"] == "APL"
        body = device.intent("AMAZON.NextIntent")
    assert body["shouldEndSession"] is True
    assert "Integrating these movements into daily life is essential." in speech_of(body)


@pytest.mark.parametrize("screen", [False, True], ids=["voice", "screen"])
def test_every_control_gives_a_valid_response(lambda_handler, screen):
    device = Device(lambda_handler, screen=screen)
    device.intent("StartRoutineIntent", {})
    controls = [
        ("AMAZON.NextIntent", "Step 2 of 6"),
        ("AMAZON.YesIntent", "Step 3 of 6"),
        ("AMAZON.PreviousIntent", "Step 2 of 6"),
        ("AMAZON.RepeatIntent", "Step 2 of 6"),
        ("StepsLeftIntent", "After this one, 4 more"),
        ("AMAZON.RepeatIntent", "Step 2 of 6"),
        ("SkipStepIntent", "skipping that one"),
        ("AMAZON.HelpIntent", "how many are left"),
        ("AMAZON.NoIntent", "No rush"),
        ("AMAZON.FallbackIntent", "didn't catch that"),
        ("AMAZON.StartOverIntent", "from the top"),
        ("AMAZON.ResumeIntent", "Step 2 of 6"),
        ("StartRoutineIntent", "already on the seated stretch"),
    ]
    for intent, expected in controls:
        body = device.intent(intent)
        assert expected.lower() in speech_of(body).lower(), intent
        assert body["shouldEndSession"] is False, intent
    body = device.intent("AMAZON.PauseIntent")
    assert body["shouldEndSession"] is True and "Paused at step 2 of 6" in speech_of(body)


def test_tampered_session_restarts_the_routine_politely(lambda_handler):
    device = Device(lambda_handler)
    device.intent("StartRoutineIntent", {})
    key = next(iter(device.alexa.attributes))
    device.alexa.attributes[key]["routine"] = {"v": 1, "variant": "seated", "step": 99}
    body = device.intent("AMAZON.NextIntent")
    assert "lost my place" in speech_of(body) and "Step 1 of 6" in speech_of(body)


def test_stop_then_resume_in_a_later_session(lambda_handler):
    device = Device(lambda_handler)
    device.intent("StartRoutineIntent", {"variant": "standing"})
    device.intent("AMAZON.NextIntent")
    device.intent("AMAZON.NextIntent")
    body = device.intent("AMAZON.StopIntent")
    assert body["shouldEndSession"] is True and "step 3 of 6" in speech_of(body)
    device.alexa.new_session()
    body = device.intent("AMAZON.ResumeIntent")  # "ask leg numbness guide to resume"
    assert "Picking up at step 3" in speech_of(body)
    assert "Step 3 of 6: Calf stretch" in speech_of(body)


def test_first_one_shot_stretch_carries_the_disclaimer_once(lambda_handler):
    device = Device(lambda_handler)
    body = device.intent("StartRoutineIntent", {})
    assert "not a substitute for professional medical advice" in speech_of(body)
    device.intent("AMAZON.StopIntent")
    device.alexa.new_session()
    body = device.intent("StartRoutineIntent", {})
    assert "not a substitute" not in speech_of(body)


def test_ouch_stops_the_routine_and_it_does_not_carry_on(lambda_handler):
    device = Device(lambda_handler)
    device.intent("StartRoutineIntent", {})
    device.intent("AMAZON.NextIntent")
    body = device.intent("DiscomfortIntent", {"feeling": "ouch"})
    assert body["shouldEndSession"] is False and body["reprompt"]
    assert "Step" not in speech_of(body)
    body = device.intent("AMAZON.NextIntent")  # no longer drives a routine
    assert "Step 3" not in speech_of(body)
    device.alexa.new_session()
    body = device.intent("AMAZON.ResumeIntent")  # and nothing is offered back
    assert "Picking up" not in speech_of(body)


def test_handler_constants_match_the_dialog_module():
    from skill.alexa import routine_handlers

    assert routine_handlers.PENDING_RESUME == routine.PENDING_RESUME
    assert routine_handlers.PERSISTENT_KEY == routine.PERSISTENT_KEY


def test_routine_module_is_not_loaded_until_needed():
    """Cold start: registering the routine handlers must not import (compile) the routine."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys\n"
            "import skill.alexa.routine_handlers\n"
            "print('skill.dialog.routine' in sys.modules)\n")
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
