"""The typing simulator: words -> NLU -> real envelopes -> handler -> what Alexa would say.

Most tests inject a stub handler that records every envelope, so the chat's own behaviour
(sessions, silence, exit, one-shots, output) is checked exactly; the rest run the real
`lambda_handler`: in process (screens, traces), or as `python -m skill chat` in a
pseudo-terminal or a pipe (Ctrl-C, Ctrl-D, memory per checkout, missing dependencies).
"""

from __future__ import annotations

import io
import json
import os
import pty
import select
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator import chat, nlu

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


# ------------------------------------------------------------------ /intent warnings

def test_intent_command_warns_about_an_intent_the_model_does_not_have():
    output, skill = run_chat(["/intent NoSuchIntent", "/intent helpintent"])
    warnings = [line for line in output.splitlines() if line.startswith("  (warning:")]
    assert len(warnings) == 2
    assert "no intent 'NoSuchIntent'" in warnings[0] and "never send it" in warnings[0]
    assert "did you mean AMAZON.HelpIntent?" in warnings[1]
    assert skill.requests()[:2] == ["IntentRequest NoSuchIntent", "IntentRequest helpintent"]


def test_intent_command_warns_about_a_slot_the_intent_does_not_declare():
    output, _ = run_chat(["/intent TopicIntent topc=sciatica"])
    assert "(warning: TopicIntent has no slot 'topc' (it has: topic)" in output


def test_intent_command_with_a_known_intent_and_slot_does_not_warn():
    output, _ = run_chat(["/intent TopicIntent topic=sciatica", "/intent AMAZON.HelpIntent"])
    assert "warning" not in output


def test_intent_command_alone_lists_the_models_intents():
    output, skill = run_chat(["/intent"])
    assert "intents in the model:" in output and "TopicIntent" in output
    assert "AMAZON.StopIntent" in output
    assert skill.events == []


# ------------------------------------------------------------------ the real skill

def run_real_chat(lambda_handler, lines, *args):
    out = io.StringIO()
    status = chat.main(list(args), handler=lambda_handler,
                       stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out)
    assert status == 0
    return out.getvalue()


def test_screen_shows_the_text_of_the_apl_document(lambda_handler):
    output = run_real_chat(lambda_handler, ["open leg numbness guide", "give me a stretch"],
                           "--screen")
    lines = output.splitlines()
    start = lines.index("  screen: Seated stretch · Step 1 of 6")
    shown = [line.strip() for line in lines[start + 1:start + 5]]
    assert shown[0] == "Sit tall"
    assert "Uncross your legs" in shown[1]
    assert "${" not in output  # every binding in the document was resolved


def test_every_screen_of_the_main_flows_reads_without_unresolved_data(lambda_handler):
    flows = [["open leg numbness guide", "why does my leg fall asleep", "tell me more",
              "tell me about sciatica", "should I see a doctor", "no", "no"],
             ["give me a stretch", "next", "next"],
             ["my face is drooping"], ["my leg has been numb for an hour"]]
    screens = []
    for lines in flows:
        output = run_real_chat(lambda_handler, lines, "--screen")
        screens += [line for line in output.splitlines()
                    if line.startswith(("  screen: ", "          "))]
    assert screens  # at least the stretch steps are shown
    assert not any("${payload." in line or "${" + "data." in line for line in screens)


def test_without_screen_the_device_gets_no_document(lambda_handler):
    output = run_real_chat(lambda_handler, ["open leg numbness guide", "give me a stretch"])
    assert "screen:" not in output and "directive:" not in output
    assert "Sit tall" in output  # spoken, not shown


def test_trace_records_every_envelope_and_the_skills_answer(lambda_handler, tmp_path):
    trace = tmp_path / "trace.jsonl"
    run_real_chat(lambda_handler, ["open leg numbness guide", "exit"], "--trace", str(trace))
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    assert [r["request"]["request"]["type"] for r in records] == \
        ["LaunchRequest", "SessionEndedRequest"]
    assert records[1]["request"]["request"]["reason"] == "USER_INITIATED"
    assert "Welcome" in records[0]["response"]["response"]["outputSpeech"]["ssml"]


# ------------------------------------------------------------------ Ctrl-C and Ctrl-D

PROMPT = b"you> "


class Terminal:
    """`python -m skill chat` in a pseudo-terminal, typed at as a person would."""

    def __init__(self, *args: str, cwd: Path = ROOT, env: dict | None = None):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child becomes the simulator
            os.chdir(cwd)
            os.execve(sys.executable, [sys.executable, "-m", "skill", "chat", *args],
                      env or _clean_env())
        self.seen = bytearray()
        self.cursor = 0

    def wait_for(self, marker: bytes, timeout: float = 60) -> None:
        """Read until `marker` appears after the previous marker waited for."""
        deadline = time.monotonic() + timeout
        while (found := self.seen.find(marker, self.cursor)) < 0:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            assert ready, f"no {marker!r}; screen so far: {bytes(self.seen)!r}"
            self.seen += os.read(self.fd, 4096)
        self.cursor = found + len(marker)

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        """Read until the child exits; (exit status, everything it printed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            try:
                chunk = os.read(self.fd, 4096) if ready else b""
            except OSError:  # EIO: the child closed the terminal
                break
            if ready and not chunk:
                break
            self.seen += chunk
        done, status = os.waitpid(self.pid, os.WNOHANG)
        if not done:  # still running after the deadline: fail the test, never hang the suite
            os.kill(self.pid, signal.SIGKILL)
            _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status), self.seen.decode("utf-8", "replace")


def _clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("SKILL_TABLE", "SKILL_ID",
                                                            "SKILL_SQLITE_PATH")}
    env.update(extra)
    return env


def _records(trace: Path) -> list[dict]:
    return [json.loads(line) for line in trace.read_text().splitlines()]


@pytest.mark.parametrize("key", [b"\x03", b"\x04"], ids=["ctrl-c", "ctrl-d"])
def test_ctrl_c_and_ctrl_d_end_the_session_cleanly(tmp_path, key):
    trace = tmp_path / "trace.jsonl"
    terminal = Terminal("--db", str(tmp_path / "memory.sqlite3"), "--trace", str(trace))
    terminal.wait_for(PROMPT)
    terminal.type(b"open leg numbness guide\r")
    terminal.wait_for(b"[session open]")
    terminal.wait_for(PROMPT)
    # A person takes longer than a microsecond to press the key: give readline the moment
    # it needs to take the terminal after printing the prompt (a key typed inside that
    # window can be lost, which would make this test wait for nothing).
    time.sleep(0.3)
    terminal.type(key)
    status, screen = terminal.finish()
    assert status == 0, screen
    assert "Traceback" not in screen and "KeyboardInterrupt" not in screen
    assert "-> SessionEndedRequest (USER_INITIATED)" in screen
    ended = _records(trace)[-1]["request"]
    assert ended["request"] == {**ended["request"], "type": "SessionEndedRequest",
                                "reason": "USER_INITIATED"}
    assert ended["session"]["sessionId"] == _records(trace)[0]["request"]["session"]["sessionId"]


def test_ctrl_c_with_no_session_open_just_leaves(tmp_path):
    trace = tmp_path / "trace.jsonl"
    terminal = Terminal("--db", str(tmp_path / "memory.sqlite3"), "--trace", str(trace))
    terminal.wait_for(PROMPT)
    terminal.type(b"\x03")
    status, screen = terminal.finish()
    assert status == 0 and "Traceback" not in screen
    assert not trace.exists() or trace.read_text() == ""  # nothing to end, nothing sent


def test_sigint_on_piped_input_also_ends_cleanly(tmp_path):
    trace = tmp_path / "trace.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "skill", "chat", "--db", str(tmp_path / "m.sqlite3"),
         "--trace", str(trace)],
        cwd=ROOT, env=_clean_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    process.stdin.write("open leg numbness guide\n")
    process.stdin.flush()
    seen = ""
    while "[session open]" not in seen:
        line = process.stdout.readline()
        assert line, "the chat ended early"
        seen += line
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert _records(trace)[-1]["request"]["request"]["reason"] == "USER_INITIATED"


# ------------------------------------------------------------------ memory per checkout

def _clone(target: Path) -> Path:
    """A copy of what the simulator runs from, standing in for a fresh clone."""
    model_dir = nlu.MODEL_DIR.relative_to(ROOT)
    for part in ("skill", "simulator", "lambda", str(model_dir)):
        shutil.copytree(ROOT / part, target / part,
                        ignore=shutil.ignore_patterns("__pycache__", ".simulator"))
    return target


def _chat_in(checkout: Path, home: Path, *args: str, lines=("open leg numbness guide",)) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "skill", "chat", *args], input="\n".join(lines) + "\n",
        capture_output=True, text=True, cwd=checkout, timeout=120,
        env=_clean_env(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"),
                       XDG_STATE_HOME=str(home / ".state")))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    return result.stdout


def test_each_checkout_has_its_own_memory_and_a_fresh_clone_starts_fresh(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    first = _clone(tmp_path / "first")
    second = _clone(tmp_path / "second")
    said = _chat_in(first, home)
    assert "not a substitute for professional medical advice" in said
    assert "welcome back" not in said.lower()
    assert "welcome back" in _chat_in(first, home).lower()  # remembered in this checkout
    assert (first / ".simulator" / "memory.sqlite3").is_file()
    said = _chat_in(second, home)  # another clone on the same machine, same user
    assert "welcome back" not in said.lower() and "not a substitute" in said
    assert list(home.rglob("*")) == []  # nothing kept outside the checkouts


def test_forget_erases_the_memory_from_the_command_line_and_mid_chat(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    checkout = _clone(tmp_path / "clone")
    _chat_in(checkout, home)
    assert "welcome back" not in _chat_in(checkout, home, "--forget").lower()
    said = _chat_in(checkout, home, lines=["open leg numbness guide", "/forget",
                                           "open leg numbness guide"])
    assert said.lower().count("welcome back") == 1  # before /forget, not after
    assert "(memory erased" in said


def test_the_banner_says_where_the_memory_is(tmp_path):
    terminal = Terminal("--db", str(tmp_path / "memory.sqlite3"))
    terminal.wait_for(PROMPT)
    terminal.type(b"\x04")
    status, screen = terminal.finish()
    assert status == 0
    assert f"Memory: {tmp_path / 'memory.sqlite3'} (/forget erases it)" in screen


# ------------------------------------------------------------------ what to install

def test_without_its_dependencies_the_chat_says_what_to_install():
    result = subprocess.run([sys.executable, "-S", "-m", "skill", "chat"], input="",
                            capture_output=True, text=True, cwd=ROOT, timeout=60,
                            env=_clean_env())
    assert result.returncode == 1
    assert "not installed" in result.stderr and "pip install -e '.[chat]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_outside_a_checkout_the_chat_says_where_the_simulator_is(tmp_path):
    shutil.copytree(ROOT / "skill", tmp_path / "skill",
                    ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run([sys.executable, "-S", "-m", "skill", "chat"], input="",
                            capture_output=True, text=True, cwd=tmp_path, timeout=60,
                            env=_clean_env())
    assert result.returncode == 1
    assert "source checkout" in result.stderr and "make chat" in result.stderr
    assert "Traceback" not in result.stderr
