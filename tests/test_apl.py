"""Screens: every answer on a device with a screen carries an APL document that Amazon's
validator passes, fed with the data it binds; voice-only devices never get one; and every
card ends with the disclaimer.

The validator is `apl-suggester` from npm (installed by `make test`, see package.json),
run with node on the very files the skill sends. The conversations are
`tests/transcripts/screens.yaml`, played through the real `lambda_handler`.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import transcript_runner
import yaml

from skill.alexa import apl
from skill.content import is_verbatim_excerpt
from skill.dialog import prompts
from skill.dialog.reply import Reply

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted((ROOT / "skill" / "alexa" / "apl").glob("*.json"))
VALIDATOR = ROOT / "tests" / "apl_suggester.js"
SCREENS = ROOT / "tests" / "transcripts" / "screens.yaml"
RENDER = "Alexa.Presentation.APL.RenderDocument"
DISCLAIMER = "not a substitute for professional medical advice"
BOUND = re.compile(r"payload\.([A-Za-z_]+)")


def validate(paths: list[Path]) -> dict[str, list[dict]]:
    """apl-suggester's findings per file ({} per clean file)."""
    node = shutil.which("node")
    assert node, "node is needed to run apl-suggester (apt-get install nodejs)"
    assert (ROOT / "node_modules" / "apl-suggester").is_dir(), \
        "apl-suggester is not installed: run `make test` (or `npm ci`) first"
    done = subprocess.run([node, str(VALIDATOR), *map(str, paths)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ the documents


def test_there_are_documents_for_each_kind_of_screen():
    assert {p.stem for p in DOCUMENTS} >= {"answer", "doctor_question", "guidance",
                                          "stretch_step"}


def test_every_document_validates_clean_with_apl_suggester():
    findings = validate(DOCUMENTS)
    assert set(findings) == {str(p) for p in DOCUMENTS}
    assert {path: found for path, found in findings.items() if found} == {}


def test_apl_suggester_catches_what_the_old_stretch_document_got_wrong(tmp_path):
    """The check can fail: marginTop is no APL property, a Container has no background."""
    broken = json.loads((ROOT / "skill/alexa/apl/stretch_step.json").read_text("utf-8"))
    root = broken["mainTemplate"]["items"][0]
    root["backgroundColor"] = "#101A1E"
    root["items"][1]["marginTop"] = "12dp"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken), "utf-8")
    messages = [f["errorMessage"] for f in validate([path])[str(path)]]
    assert any("marginTop" in m for m in messages), messages
    assert any("backgroundColor" in m for m in messages), messages


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_every_document_shows_the_disclaimer_footer(path):
    assert "${payload.footer}" in path.read_text("utf-8")


# ------------------------------------------------------------------ what the skill sends


def screen_conversations(screen: bool) -> list[dict]:
    data = yaml.load(SCREENS.read_text("utf-8"), Loader=transcript_runner.TranscriptLoader)
    conversations = copy.deepcopy(data["conversations"])
    for conversation in conversations:
        conversation["screen"] = screen
        for turn in conversation["turns"]:
            turn.pop("screen_shown", None)
    return conversations


@pytest.fixture(scope="module")
def screen_turns(lambda_handler) -> list[transcript_runner.Turn]:
    turns = []
    for conversation in screen_conversations(screen=True):
        turns += transcript_runner.play(conversation, lambda_handler)
    assert len(turns) > 30
    return turns


def render_directives(turn) -> list[dict]:
    return [d for d in turn.response["response"].get("directives", []) if d["type"] == RENDER]


def test_every_answer_on_a_screen_carries_one_document_with_the_data_it_binds(screen_turns):
    for turn in screen_turns:
        (directive,) = render_directives(turn)
        name = directive["token"].removeprefix(apl.TOKEN_PREFIX + "-").replace("-", "_")
        assert directive["document"] == apl.document(name), turn.said
        payload = directive["datasources"][apl.DATASOURCE]
        needed = set(BOUND.findall(json.dumps(directive["document"])))
        missing = {key for key in needed if payload.get(key) is None}
        assert not missing, f"{turn.said!r}: {name} binds {missing}, not sent"
        assert DISCLAIMER in payload["footer"].lower()
        footer = prompts.text("card_footer")
        assert all(footer not in p for p in payload.get("paragraphs", [])), \
            "the disclaimer is the footer, not part of the body"


def test_every_kind_of_screen_is_used(screen_turns):
    tokens = {d["token"] for t in screen_turns for d in render_directives(t)}
    assert tokens == {f"{apl.TOKEN_PREFIX}-{p.stem.replace('_', '-')}" for p in DOCUMENTS}


def test_a_passage_screen_shows_its_section_heading_and_the_article_words(screen_turns):
    answer = next(t for t in screen_turns if t.said == "why does my leg fall asleep")
    payload = render_directives(answer)[0]["datasources"]["payload"]
    assert payload["title"] == "Defining the Experience of Leg Numbness"
    sentences = [s for p in payload["paragraphs"] for s in re.split(r"(?<=[.!?])\s+", p)]
    assert sentences and all(is_verbatim_excerpt(s) for s in sentences), sentences
    assert payload["hint"] == "Want to hear what causes it?"


def test_the_doctor_check_screen_shows_the_current_question(screen_turns):
    questions = [d["datasources"]["payload"] for t in screen_turns
                 for d in render_directives(t) if d["token"].endswith("doctor-question")]
    numbers = [q["questionNumber"] for q in questions]
    total = questions[0]["totalQuestions"]
    assert set(numbers) == set(range(1, total + 1))
    for payload in questions:
        assert payload["progressText"] == \
            f"Question {payload['questionNumber']} of {payload['totalQuestions']}"
        assert payload["question"].endswith("?")
    document = json.dumps(apl.document("doctor_question"))
    assert all(word in document for word in ('"Yes"', '"No"', '"Not sure"'))


@pytest.mark.parametrize("locale,level,number", [("en-US", "emergency", "911"),
                                                 ("en-GB", "urgent", "999"),
                                                 ("en-AU", "emergency", "000")])
def test_emergency_and_urgent_screens_carry_the_locales_number(screen_turns, locale, level,
                                                               number):
    shown = [d["datasources"]["payload"] for t in screen_turns for d in render_directives(t)
             if d["token"].endswith("-guidance")]
    assert {"level": level, "number": number} in [
        {"level": p["level"], "number": p["number"]} for p in shown]
    for payload in shown:
        assert payload["hint"] == ""  # the session ends: nothing to say next


def test_every_card_ends_with_the_disclaimer(screen_turns):
    footer = prompts.text("card_footer")
    cards = [t.response["response"]["card"] for t in screen_turns
             if t.response["response"].get("card")]
    assert len(cards) > 20
    for card in cards:
        assert card["content"].endswith(footer), card["title"]
        assert card["content"].count(footer) == 1, card["title"]


def test_a_voice_only_device_never_gets_a_document(lambda_handler):
    for conversation in screen_conversations(screen=False):
        for turn in transcript_runner.play(conversation, lambda_handler):
            assert not render_directives(turn), turn.said


def test_screen_text_is_escaped_for_apl_markup():
    reply = Reply(speech="a", reprompt="b", card_title="T",
                  card_text="Salt & pepper <b>\n\nsecond   paragraph\n\n"
                            + prompts.text("card_footer"))
    payload = apl.payload(reply)
    assert payload["paragraphs"] == ["Salt &amp; pepper &lt;b&gt;", "second paragraph"]
    assert payload["title"] == "T" and payload["hint"] == "b"


def test_a_reply_without_a_card_shows_its_speech():
    payload = apl.payload(Reply(speech="Goodbye <break time=\"1s\"/> now.", end_session=True))
    assert payload["title"] == apl.DEFAULT_TITLE
    assert payload["paragraphs"] == ["Goodbye now."]
    assert payload["hint"] == ""


def test_document_names_cannot_be_paths():
    with pytest.raises(ValueError):
        apl.document("../context")
