"""The typing simulator: words -> NLU -> real envelopes -> handler -> what Alexa would say.

Most tests inject a stub handler that records every envelope, so the chat's own behaviour
(sessions, silence, exit, one-shots, output) is checked exactly; one test runs
`python -m skill chat` with piped input against the real Lambda handler.
"""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

from skill.hosting import chat

ROOT = Path(__file__).resolve().parents[1]


class StubSkill:
    """Answers like the skill would, and remembers every request it got."""

    def __init__(self, fail_on: str | None = None):
        self.events: list[dict] = []
        self.fail_on = fail_on

    def __call__(self, event: dict, context) -> dict:
        self.events.append(event)
        request = event["request"]
        count = event["session"]["attributes"].get("count", 0) + 1
        if request["type"] == "LaunchRequest":
            return self._reply("<speak>Welcome &amp; hello.</speak>", "What now?", count,
                               card=("Welcome", "Hello there.\n\nSecond line."))
        if request["type"] == "SessionEndedRequest":
            return {"version": "1.0", "response": {}}
        name = request["intent"]["name"]
        if name == self.fail_on:
            raise RuntimeError("boom")
        if name in ("AMAZON.StopIntent", "AMAZON.CancelIntent"):
            return {"version": "1.0",
                    "response": {"outputSpeech": {"type": "SSML", "ssml": "<speak>Bye.</speak>"},
                                 "shouldEndSession": True}}
        slots = request["intent"].get("slots") or {}
        said = ", ".join(f"{k}={v.get('value')}" for k, v in sorted(slots.items()))
        return self._reply(f"<speak>You asked {name} {said}.<break time=\"1s\"/></speak>",
                           "Anything else?", count)

    @staticmethod
    def _reply(speech, reprompt, count, card=None):
        body = {"outputSpeech": {"type": "SSML", "ssml": speech},
                "reprompt": {"outputSpeech": {"type": "SSML",
                                              "ssml": f"<speak>{reprompt}</speak>"}},
                "shouldEndSession": False}
        if card:
            body["card"] = {"type": "Simple", "title": card[0], "content": card[1]}
        return {"version": "1.0", "sessionAttributes": {"count": count}, "response": body}

    def requests(self) -> list[str]:
        out = []
        for event in self.events:
            request = event["request"]
            kind = request["type"]
            detail = request.get("intent", {}).get("name") or request.get("reason") or ""
            out.append(f"{kind} {detail}".strip())
        return out


def run_chat(lines: list[str], *args: str,
             skill: StubSkill | None = None) -> tuple[str, StubSkill]:
    skill = skill or StubSkill()
    out = io.StringIO()
    status = chat.main(list(args), handler=skill, stdin=io.StringIO("\n".join(lines) + "\n"),
                       stdout=out)
    assert status == 0
    return out.getvalue(), skill


def test_a_piped_conversation_reads_as_a_transcript():
    output, skill = run_chat(["open leg numbness guide", "tell me about sciatica", "stop"])
    assert output.splitlines() == [
        "you> open leg numbness guide",
        "--- new session ---",
        "  -> LaunchRequest",
        "alexa> Welcome & hello.",
        "  card: Welcome | Hello there.",
        "",
        "        Second line.",
        "  [session open]",
        "you> tell me about sciatica",
        '  -> TopicIntent topic="sciatica" -> sciatic_nerve',
        "alexa> You asked TopicIntent topic=sciatica.",
        "  [session open]",
        "you> stop",
        "  -> AMAZON.StopIntent",
        "alexa> Bye.",
        "  [session ended]",
    ]
    assert skill.requests() == ["LaunchRequest", "IntentRequest TopicIntent",
                                "IntentRequest AMAZON.StopIntent"]


def test_one_session_carries_its_id_and_attributes():
    _, skill = run_chat(["open leg numbness guide", "tell me more", "what can you do"])
    launch, more, help_ = skill.events[:3]
    assert launch["session"]["new"] is True
    assert more["session"]["new"] is False and help_["session"]["new"] is False
    assert launch["session"]["sessionId"] == more["session"]["sessionId"] == \
        help_["session"]["sessionId"]
    assert more["session"]["attributes"] == {"count": 1}
    assert help_["session"]["attributes"] == {"count": 2}


def test_after_a_session_ends_the_next_line_starts_a_new_one_for_the_same_user():
    _, skill = run_chat(["open leg numbness guide", "stop", "why does my leg fall asleep"])
    first, _, third = skill.events[:3]
    assert third["session"]["new"] is True
    assert third["session"]["sessionId"] != first["session"]["sessionId"]
    assert third["session"]["attributes"] == {}
    assert third["session"]["user"] == first["session"]["user"]
    assert third["request"]["intent"]["name"] == "WhyLegFallsAsleepIntent"


def test_one_shot_invocation():
    output, skill = run_chat(["ask leg numbness guide about diabetes"])
    assert skill.requests()[0] == "IntentRequest TopicIntent"
    assert skill.events[0]["session"]["new"] is True
    slot = skill.events[0]["request"]["intent"]["slots"]["topic"]
    assert slot["resolutions"]["resolutionsPerAuthority"][0]["values"][0]["value"]["id"] == \
        "diabetes"


def test_silence_repeats_the_reprompt_then_closes_the_session():
    output, skill = run_chat(["open leg numbness guide", "", ""])
    assert "alexa (reprompt)> What now?" in output.splitlines()
    assert skill.requests() == ["LaunchRequest", "SessionEndedRequest EXCEEDED_MAX_REPROMPTS"]


def test_exit_ends_the_session_and_exit_without_one_leaves_the_chat():
    output, skill = run_chat(["open leg numbness guide", "exit", "exit", "tell me more"])
    assert skill.requests() == ["LaunchRequest", "SessionEndedRequest USER_INITIATED"]
    assert "you> tell me more" not in output  # the second "exit" quit the chat


def test_end_of_input_closes_an_open_session():
    _, skill = run_chat(["open leg numbness guide"])
    assert skill.requests() == ["LaunchRequest", "SessionEndedRequest USER_INITIATED"]


def test_unmatched_words_go_to_the_fallback_intent():
    output, skill = run_chat(["open leg numbness guide", "order me a pizza"])
    assert skill.requests()[1] == "IntentRequest AMAZON.FallbackIntent"


def test_intent_command_sends_an_exact_intent_with_resolution():
    output, skill = run_chat(["/intent TopicIntent topic=sciatica", "/quit", "more"])
    assert skill.requests() == ["IntentRequest TopicIntent", "SessionEndedRequest USER_INITIATED"]
    slot = skill.events[0]["request"]["intent"]["slots"]["topic"]
    assert slot["resolutions"]["resolutionsPerAuthority"][0]["status"]["code"] == \
        "ER_SUCCESS_MATCH"


def test_help_and_unknown_commands_send_nothing():
    output, skill = run_chat(["/help", "/frobnicate"])
    assert "/intent Name" in output and "unknown command" in output
    assert skill.events == []


def test_a_failing_skill_is_reported_and_the_chat_goes_on():
    output, skill = run_chat(["open leg numbness guide", "tell me more", "open leg numbness guide"],
                             skill=StubSkill(fail_on="TellMeMoreIntent"))
    assert "[skill error: RuntimeError: boom]" in output
    assert skill.requests()[2:] == ["LaunchRequest", "SessionEndedRequest USER_INITIATED"]
    assert skill.events[2]["session"]["new"] is True


def test_locale_and_screen_reach_the_envelope():
    _, skill = run_chat(["open leg numbness guide"], "--locale", "en-GB", "--screen")
    event = skill.events[0]
    assert event["request"]["locale"] == "en-GB"
    assert "Alexa.Presentation.APL" in event["context"]["System"]["device"]["supportedInterfaces"]


def test_speak_uses_espeak_ng_when_installed(tmp_path, monkeypatch):
    log = tmp_path / "spoken.txt"
    fake = tmp_path / "espeak-ng"
    fake.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" >> {log}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    run_chat(["open leg numbness guide"], "--speak", "--locale", "en-GB")
    spoken = log.read_text()
    assert "-m" in spoken.split() and "en-gb" in spoken.split()
    assert "<speak>Welcome &amp; hello.</speak>" in spoken


def test_speak_without_espeak_ng_says_so_and_carries_on(monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/nonexistent")
    output, _ = run_chat(["open leg numbness guide"], "--speak")
    assert "alexa> Welcome & hello." in output
    assert "espeak-ng is not installed" in capsys.readouterr().err


def test_python_m_skill_chat_with_the_real_lambda(tmp_path):
    """End to end: the real handler, real memory on disk, piped input."""
    lines = ["open leg numbness guide", "why does my leg fall asleep", "stop",
             "open leg numbness guide"]
    env = {k: v for k, v in os.environ.items() if k not in ("SKILL_TABLE", "SKILL_ID")}
    env["SKILL_SQLITE_PATH"] = str(tmp_path / "ignored.sqlite3")  # --db wins
    result = subprocess.run(
        [sys.executable, "-m", "skill", "chat", "--db", str(tmp_path / "memory.sqlite3")],
        input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=ROOT, env=env,
        timeout=120)
    assert result.returncode == 0, result.stderr
    output = result.stdout
    assert output.count("--- new session ---") == 2
    assert "  -> WhyLegFallsAsleepIntent" in output
    spoken = [line for line in output.splitlines() if line.startswith("alexa> ")]
    assert len(spoken) == 4
    assert "  [session ended]" in output
    assert (tmp_path / "memory.sqlite3").exists()
    assert not (tmp_path / "ignored.sqlite3").exists()
    assert "Traceback" not in result.stderr
