"""skill/dialog/reinterpret.py: what words mean in each state (the transcripts in
tests/transcripts/reinterpret.yaml play the same through the real lambda_handler)."""

import json
from pathlib import Path

import pytest

from skill.dialog import reinterpret
from skill.dialog.state import SessionState

DATA = json.loads((Path(reinterpret.__file__).parent / "reinterpret.json").read_text("utf-8"))


def state(mode="idle", pending=None):
    return SessionState(mode=mode, pending=pending)


@pytest.mark.parametrize("words, meant", [
    ("done with that one", "AMAZON.NextIntent"),
    ("what comes after that", "AMAZON.NextIntent"),
    ("take me back one step", "AMAZON.PreviousIntent"),
    ("say that again", "AMAZON.RepeatIntent"),
    ("give me a minute", "AMAZON.PauseIntent"),
    ("let's get going again", "AMAZON.ResumeIntent"),
    ("I'll call it a day", "AMAZON.StopIntent"),
    ("not that one", "SkipStepIntent"),
    ("how many more have I got", "StepsLeftIntent"),
    ("start again from the top", "AMAZON.StartOverIntent"),
    ("what do I say now", "AMAZON.HelpIntent"),
])
def test_in_a_stretch_control_words_are_controls(words, meant):
    for intent in reinterpret.FREE_TEXT_INTENTS:
        assert reinterpret.meaning(state("routine"), intent, [words]) == meant


def _families() -> list[tuple[str, str, str, str]]:
    """tests/data/reinterpret_families.tsv: mode, heard-as intent, words, meaning."""
    lines = (Path(__file__).parent / "data" / "reinterpret_families.tsv").read_text("utf-8")
    return [tuple(line.split("\t")) for line in lines.splitlines()
            if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("mode, heard_as, words, meant", _families())
def test_control_families_and_what_carriers_leave_are_controls(mode, heard_as, words, meant):
    assert reinterpret.meaning(state(mode), heard_as, [words]) == meant


@pytest.mark.parametrize("words", ["ouch that hurts, skip it", "I feel dizzy, stop",
                                   "my calf is cramping, next",
                                   "hang on my chest feels tight",
                                   "I can't breathe properly, pause",
                                   "sore knee, let's call it a day"])
def test_in_a_stretch_discomfort_is_never_reinterpreted(words):
    assert reinterpret.meaning(state("routine"), "SymptomStoryIntent", [words]) is None


def test_built_in_intents_are_left_as_alexa_heard_them():
    assert reinterpret.meaning(state("routine"), "AMAZON.NextIntent", ["back"]) is None
    assert reinterpret.meaning(state("routine"), "AMAZON.FallbackIntent", []) is None


@pytest.mark.parametrize("words, meant", [
    ("I reckon so", "AMAZON.YesIntent"), ("oh yes it is", "AMAZON.YesIntent"),
    ("nope she's right", "AMAZON.NoIntent"), ("not really", "AMAZON.NoIntent"),
    ("dunno mate", "UnsureIntent"), ("it might be", "UnsureIntent"),
    ("what was the question", "AMAZON.RepeatIntent"),
    ("I'd rather not continue", "AMAZON.StopIntent"),
])
def test_in_the_doctor_check_answers_are_answers(words, meant):
    assert reinterpret.meaning(state("doctor_check"), "QuestionIntent", [words]) == meant


def test_elsewhere_a_why_story_is_a_question_and_a_plain_story_is_a_story():
    idle = state()
    assert reinterpret.meaning(idle, "SymptomStoryIntent",
                               ["keeps asking why his feet go to sleep"]) == reinterpret.WHY
    assert reinterpret.meaning(idle, "SymptomStoryIntent",
                               ["wonders what causes cramp"]) == reinterpret.QUESTION
    assert reinterpret.meaning(idle, "SymptomStoryIntent", ["leg went numb on the bus"]) is None


def test_a_question_about_a_condition_goes_to_the_ranker():
    assert reinterpret.meaning(state(), "QuestionIntent",
                               ["diabetes make my feet numb"]) is None
    assert reinterpret.meaning(state(), "QuestionIntent",
                               ["my legs go tingly when I game"]) == reinterpret.WHY


def test_another_features_pending_question_is_left_alone():
    assert reinterpret.meaning(state(pending="triage_confirm"), "QuestionIntent",
                               ["give me a stretch"]) is None
    assert reinterpret.meaning(state(pending="more"), "QuestionIntent",
                               ["give me a stretch"]) == "StartRoutineIntent"


def test_every_pattern_compiles_and_every_target_is_an_intent_of_the_model():
    model = json.loads((Path(__file__).resolve().parents[1] / "skill-package"
                        / "interactionModels" / "custom" / "en-US.json").read_text("utf-8"))
    names = {i["name"] for i in model["interactionModel"]["languageModel"]["intents"]}
    families = (DATA["stretch"]["controls"] + DATA["doctor_check"]["answers"]
                + DATA["anywhere"]["jobs"])
    for intent, pattern in families:
        assert intent in names
        reinterpret._compiled(pattern)


@pytest.mark.parametrize("words, meant", [
    ("that's all for now", "AMAZON.StopIntent"), ("thanks bye", "AMAZON.StopIntent"),
    ("how does this work", "AMAZON.HelpIntent"), ("what is this", "AMAZON.HelpIntent"),
    ("could it be serious", "DoctorCheckIntent"),
    ("is this something I should worry about", "DoctorCheckIntent"),
    ("what stretches help", "StartRoutineIntent"),
])
def test_free_text_that_asks_for_a_job_gets_it(words, meant):
    assert reinterpret.meaning(state(), "QuestionIntent", [words]) == meant
