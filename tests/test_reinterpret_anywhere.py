"""skill/dialog/reinterpret.py outside a stretch or check: free text that asks for a job gets
the job, a why-story is answered as a question, and a question the article answers stays
with the ranker (tests/transcripts/jobs_in_other_words.yaml plays the same end to end)."""

import pytest

from skill.dialog import reinterpret
from skill.dialog.state import SessionState

IDLE = SessionState()


@pytest.mark.parametrize("words", [
    "go see the doc about me leg mate", "figure out if this needs a doctor",
    "if my tingling is worth a trip to the doctor", "should i be bothering the doctor with this",
    "be calling someone about my leg", "worth going to the doctor about it at all",
    "show it to a doctor",
])
def test_doctor_words_in_free_text_start_the_check(words):
    assert reinterpret.meaning(IDLE, "QuestionIntent", [words]) == "DoctorCheckIntent"


@pytest.mark.parametrize("words", ["what kind of doctor treats this",
                                   "what will the doctor do at my appointment",
                                   "how do doctors test for nerve damage"])
def test_a_question_about_doctors_is_left_to_the_ranker(words):
    assert reinterpret.meaning(IDLE, "QuestionIntent", [words]) is None


@pytest.mark.parametrize("words", [
    "how do i know if it's serious", "is it bad that my foot keeps going to sleep",
    "does this warrant a doctor's appointment", "how do i know if my numbness is serious",
    "does my wife need to get her tingly legs checked out", "is his tingling something to worry about",
    # the interaction model's own DoctorCheckIntent samples say these, so Alexa starts the check
    "when should i see a doctor about numbness", "does my mum need a doctor",
    "when should i worry about pins and needles", "does this need looking at",
])
def test_whether_ones_own_numbness_needs_a_doctor_starts_the_check(words):
    assert reinterpret.meaning(IDLE, "QuestionIntent", [words]) == "DoctorCheckIntent"


@pytest.mark.parametrize("words", [
    "is it bad to sit cross legged",
    "i always tuck my feet under my chair is that bad",
    "the doctor says my arteries are furred up could that be why my legs go numb",
    "tell me about when to seek medical advice", "what will the doctor do at my appointment",
    "how is my numbness treated if it's serious",
])
def test_general_habit_cause_and_treatment_questions_stay_with_the_ranker(words):
    assert reinterpret.meaning(IDLE, "QuestionIntent", [words]) != "DoctorCheckIntent"


@pytest.mark.parametrize("words", ["guide me through the leg routine step by step",
                                   "a wee stretch for ma legs", "show me one of them stretchin routines"])
def test_stretch_words_in_free_text_start_the_routine(words):
    assert reinterpret.meaning(IDLE, "SymptomStoryIntent", [words]) == "StartRoutineIntent"


def test_why_does_stretching_help_is_still_a_question():
    assert reinterpret.meaning(IDLE, "QuestionIntent", ["why does stretching help"]) is None


@pytest.mark.parametrize("words", [
    "always wondered what makes your foot fall asleep", "whats the science behind a leg going to sleep",
    "whyd my foot just go all staticky",
])
def test_a_story_that_asks_why_is_the_why_question(words):
    assert reinterpret.meaning(IDLE, "SymptomStoryIntent", [words]) == reinterpret.WHY


@pytest.mark.parametrize("words", ["my foot feel like it's full of static",
                                   "i lose feeling in my thigh when i kneel in church"])
def test_sensations_in_other_words_are_the_why_question(words):
    assert reinterpret.meaning(IDLE, "QuestionIntent", [words]) == reinterpret.WHY


def test_what_it_feels_like_is_a_description_question_for_the_ranker():
    assert reinterpret.meaning(IDLE, "QuestionIntent",
                               ["it feel like when my leg falls asleep"]) is None


@pytest.mark.parametrize("words, meant", [
    ("options here mate", "AMAZON.HelpIntent"), ("me options", "AMAZON.HelpIntent"),
    ("this skill do then", "AMAZON.HelpIntent"), ("this thing work now", "AMAZON.HelpIntent"),
    ("use this mate", "AMAZON.HelpIntent"), ("finish now", "AMAZON.StopIntent"),
])
def test_help_and_goodbye_in_free_text(words, meant):
    assert reinterpret.meaning(IDLE, "QuestionIntent", [words]) == meant


@pytest.mark.parametrize("words", ["treatment options", "use this cream on my legs",
                                   "finish my stretches later"])
def test_words_that_only_look_like_help_or_goodbye_are_not(words):
    assert reinterpret.meaning(IDLE, "QuestionIntent", [words]) not in ("AMAZON.HelpIntent",
                                                                        "AMAZON.StopIntent")


@pytest.mark.parametrize("words, meant", [
    ("reminders to move around during the day", "SetMovementRemindersIntent"),
    ("a reminder to stretch me legs at three", "SetMovementRemindersIntent"),
    ("read me back the reminders you've got for me", "ListMovementRemindersIntent"),
    ("switch off the reminders mate", "StopMovementRemindersIntent"),
    ("the reminders are annoying him can you cancel them", "StopMovementRemindersIntent"),
])
def test_reminder_words_in_free_text_are_the_reminder_intents(words, meant):
    """Never a stretch: 'reminders to move around' names moving, but asks for reminders."""
    assert reinterpret.meaning(IDLE, "QuestionIntent", [words]) == meant


@pytest.mark.parametrize("words", ["remind me what causes it", "remind me to take my tablets",
                                   "how do reminders help"])
def test_other_reminding_is_not_a_movement_reminder(words):
    assert reinterpret.meaning(IDLE, "QuestionIntent", [words]) is None
