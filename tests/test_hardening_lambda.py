"""Issue 11 through the real `lambda_handler`: what used to lose a red flag, crash, echo
attributes back or replay raw SSML.

- item 1: an enum value newer than the SDK (slot resolution status, confirmationStatus,
  dialogState) or a non-object `session.attributes` no longer hides a red flag;
- item 3: remembered speech is replayed only if it is SSML the skill could have written;
- item 8: with SKILL_ID set, an envelope without `context`/`System`/`application` is
  refused cleanly (our exception, not AttributeError);
- item 9: when the catch-all exception handler itself fails (data files unreadable),
  the fixed last-resort answer is still sent;
- item 10: session attributes the skill never wrote are not echoed back.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from skill.dialog import ssml
from simulator.envelopes import Envelopes

REPO = Path(__file__).resolve().parent.parent
RED_FLAG = {"symptom": {"name": "symptom", "value": "my face is drooping",
                        "confirmationStatus": "NONE"}}


def envelopes() -> Envelopes:
    return Envelopes(locale="en-US", user_id="amzn1.ask.account.hardening")


def red_flag_event() -> dict:
    return envelopes().intent("DescribeSymptomIntent", RED_FLAG)


def spoken(response: dict) -> str:
    return ssml.to_plain_text(response["response"]["outputSpeech"]["ssml"])


def _unknown_resolution(event):
    event["request"]["intent"]["slots"]["symptom"]["resolutions"] = {
        "resolutionsPerAuthority": [{"authority": "amzn1.er-authority.echo-sdk.x.SYMPTOM",
                                     "status": {"code": "ER_NEW_CODE"}, "values": []}]}


def _unknown_confirmation(event):
    event["request"]["intent"]["confirmationStatus"] = "NEW_STATUS"


def _unknown_dialog_state(event):
    event["request"]["dialogState"] = "NEW_STATE"


def _attributes_not_an_object(event):
    event["session"]["attributes"] = []


def _slots_as_a_list(event):
    event["request"]["intent"]["slots"] = [dict(RED_FLAG["symptom"])]


def _unknown_slot_confirmation(event):
    event["request"]["intent"]["slots"]["symptom"]["confirmationStatus"] = "NEW_SLOT_STATUS"


ODDITIES = [_unknown_resolution, _unknown_confirmation, _unknown_dialog_state,
            _attributes_not_an_object, _slots_as_a_list, _unknown_slot_confirmation]


@pytest.mark.parametrize("oddity", ODDITIES, ids=lambda f: f.__name__.strip("_"))
def test_an_unknown_enum_value_does_not_hide_a_red_flag(lambda_handler, oddity):
    event = red_flag_event()
    oddity(event)
    response = lambda_handler(event, None)
    assert spoken(response).startswith("Call 911 now."), spoken(response)
    assert response["response"]["shouldEndSession"] is True


@pytest.mark.parametrize("oddity", [_unknown_confirmation, _unknown_dialog_state,
                                    _attributes_not_an_object])
def test_an_unknown_enum_value_still_gets_the_ordinary_answer(lambda_handler, oddity):
    event = envelopes().intent("WhyLegFallsAsleepIntent", {})
    oddity(event)
    response = lambda_handler(event, None)
    assert "Sorry, I couldn't understand" not in spoken(response)
    assert response["response"]["shouldEndSession"] is False
    assert response["response"]["reprompt"]["outputSpeech"]["ssml"]


@pytest.mark.parametrize("oddity", ODDITIES[:4], ids=lambda f: f.__name__.strip("_"))
def test_the_web_service_answers_them_too_not_400(oddity):
    import certs
    from test_webservice import signed_post, test_verifier

    from skill.alexa.builder import build_skill
    from skill.hosting.webservice import create_app

    app = create_app(build_skill(), {}, request_verifier=test_verifier(None))
    event = certs.intent_envelope("DescribeSymptomIntent", {"symptom": "my face is drooping"})
    oddity(event)
    resp = signed_post(app.test_client(), event)
    assert resp.status_code == 200
    assert spoken(resp.get_json()).startswith("Call 911 now.")


# ------------------------------------------------------------------ item 3: repeat


def _repeat_with(lambda_handler, **remembered) -> dict:
    event = envelopes().intent("AMAZON.RepeatIntent", {})
    event["session"]["new"] = False
    event["session"]["attributes"] = {"pins_and_needles": {"v": 1, "mode": "idle",
                                                           **remembered}}
    return lambda_handler(event, None)


@pytest.mark.parametrize("speech", [
    "a < b & c",
    '<audio src="https://example.com/x.mp3"/>',
    '<break time="60s"/>',
    '<break time="10s"/>' * 7,
    "x" * 8000,
    '<sub alias="one">1',
    "<speak>nested</speak>",
])
def test_repeat_never_replays_unsafe_or_huge_ssml(lambda_handler, speech):
    response = _repeat_with(lambda_handler, last_speech=speech, last_reprompt=speech)
    out = response["response"]["outputSpeech"]["ssml"]
    ElementTree.fromstring(out)  # well-formed SSML
    assert "audio" not in out and "60s" not in out and "x" * 100 not in out
    assert len(json.dumps(response)) < 4000


def test_repeat_still_replays_what_the_skill_said(lambda_handler):
    env = envelopes()
    first = lambda_handler(env.intent("DescribeSymptomIntent", {"symptom": "I can't move my leg"}),
                           None)
    said = first["response"]["outputSpeech"]["ssml"]
    env = envelopes()
    env.new_session()
    hello = lambda_handler(env.intent("WhyLegFallsAsleepIntent", {}), None)
    env.carry(hello)
    again = lambda_handler(env.intent("AMAZON.RepeatIntent", {}), None)
    assert again["response"]["outputSpeech"]["ssml"] == hello["response"]["outputSpeech"]["ssml"]
    assert "<sub" in said or said  # the guidance itself is valid SSML the skill wrote
    ElementTree.fromstring(said)


# ------------------------------------------------------------- item 10: attributes


def test_attributes_the_skill_never_wrote_are_not_echoed(lambda_handler):
    env = envelopes()
    env.carry(lambda_handler(env.launch(), None))
    event = env.intent("WhyLegFallsAsleepIntent", {})
    event["session"]["attributes"]["intruder"] = "x" * 200_000
    event["session"]["attributes"]["other"] = {"nested": ["y" * 30_000]}
    response = lambda_handler(event, None)
    assert set(response["sessionAttributes"]) <= {"pins_and_needles", "persistent"}
    assert "pins_and_needles" in response["sessionAttributes"]
    assert len(json.dumps(response)) < 24 * 1024


def test_an_oversized_owned_attribute_starts_the_session_afresh(lambda_handler):
    event = envelopes().intent("AMAZON.HelpIntent", {})
    event["session"]["new"] = False
    event["session"]["attributes"] = {"persistent": {"junk": "z" * 100_000}}
    response = lambda_handler(event, None)
    assert len(json.dumps(response)) < 24 * 1024
    assert response["response"]["outputSpeech"]["ssml"]


# ------------------------------------------------------------------ subprocesses


def _run(script: str, env: dict[str, str], cwd: Path = REPO) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in env.items()}
    return subprocess.run([sys.executable, "-c", script], cwd=cwd, env=clean,
                          capture_output=True, text=True, timeout=120)


HANDLE = """
import json, sys
sys.path.insert(0, "lambda")
from lambda_function import lambda_handler
import skill
events = json.loads(sys.stdin.readline()) if False else json.loads(open("events.json").read())
out = []
for event in events:
    try:
        out.append({"response": lambda_handler(event, None)})
    except Exception as error:
        out.append({"raised": type(error).__name__, "message": str(error)})
print("SKILL_FROM", skill.__file__)
print("RESULT", json.dumps(out))
"""


def _results(proc: subprocess.CompletedProcess) -> list[dict]:
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line, proc.stdout + proc.stderr
    return json.loads(line[len("RESULT "):])


def _base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items()
           if k not in ("SKILL_ID", "SKILL_TABLE", "SKILL_SQLITE_PATH")}
    env.update(extra)
    return env


def test_with_skill_id_a_request_without_application_is_refused_cleanly(tmp_path):
    skill_id = "amzn1.ask.skill.ours"
    base = envelopes().launch()
    base["context"]["System"]["application"]["applicationId"] = skill_id
    base["session"]["application"]["applicationId"] = skill_id
    no_context = {k: v for k, v in base.items() if k != "context"}
    no_system = {**base, "context": {}}
    no_application = json.loads(json.dumps(base))
    del no_application["context"]["System"]["application"]
    del no_application["session"]["application"]
    other = json.loads(json.dumps(base))
    other["context"]["System"]["application"]["applicationId"] = "amzn1.ask.skill.theirs"
    work = tmp_path / "work"
    shutil.copytree(REPO / "lambda", work / "lambda")
    (work / "events.json").write_text(json.dumps(
        [base, no_context, no_system, no_application, other, [], "text"]))
    proc = _run(HANDLE, _base_env(tmp_path, SKILL_ID=skill_id,
                                  PYTHONPATH=str(REPO)), cwd=work)
    ours, *refused = _results(proc)
    assert "response" in ours and ours["response"]["response"]["outputSpeech"]
    for result in refused:
        assert result.get("raised") == "RequestForAnotherSkill", result


def test_the_last_resort_answer_survives_a_failing_exception_handler(tmp_path):
    """Data files unreadable: the handler fails, then the catch-all's own apology fails
    (it reads prompts.json too); the fixed FALLBACK_RESPONSE still goes out."""
    work = tmp_path / "zip"
    shutil.copytree(REPO / "skill", work / "skill",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "lambda" / "lambda_function.py", work / "lambda_function.py")
    for data in ("prompts.json", "guidance.json", "locales.json"):
        (work / "skill" / "dialog" / data).unlink()
    env = envelopes()
    (work / "events.json").write_text(json.dumps(
        [env.launch(), env.intent("AMAZON.HelpIntent", {})]))
    script = HANDLE.replace('sys.path.insert(0, "lambda")', 'sys.path.insert(0, ".")')
    proc = _run(script, _base_env(tmp_path, PYTHONPATH=str(work)), cwd=work)
    assert f"SKILL_FROM {work}" in proc.stdout, proc.stdout + proc.stderr
    for result in _results(proc):
        speech = result["response"]["response"]["outputSpeech"]["ssml"]
        assert "Sorry, I couldn't understand that request" in speech


def test_the_lambda_entry_trims_attributes_too(lambda_handler):
    """Response interceptors do not run after a handler fails, so the Lambda entry trims
    the response's session attributes as well (here with a doctor-check slice of the
    wrong shape, which the check restarts from)."""
    event = envelopes().intent("AMAZON.HelpIntent", {})
    event["session"]["new"] = False
    event["session"]["attributes"] = {
        "intruder": "x" * 100_000,
        "pins_and_needles": {"v": 1, "mode": "doctor_check", "doctor": {"question": "x"}}}
    response = lambda_handler(event, None)
    assert "intruder" not in response.get("sessionAttributes", {})
    assert len(json.dumps(response)) < 24 * 1024
