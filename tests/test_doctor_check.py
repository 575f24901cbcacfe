"""The doctor check, branch by branch, as plain dialog functions (no Alexa)."""

import json
from pathlib import Path

import pytest

from skill.content import is_verbatim_excerpt
from skill.dialog import doctor_check as dc
from skill.dialog import ssml, triage
from skill.dialog.state import SessionState

ROOT = Path(__file__).resolve().parents[1]
DATA = json.loads((ROOT / "skill/dialog/doctor_check.json").read_text("utf-8"))
QUESTIONS = dc.questions()
NUMBERS = {"en-US": "911", "en-CA": "911", "en-GB": "999", "en-AU": "000", "en-IN": "112"}


def plain(reply) -> str:
    return ssml.to_plain_text(reply.speech)


def at_step(step: int) -> SessionState:
    state = SessionState()
    dc.start(state, "en-US")
    for _ in range(step):
        dc.answer(state, "en-US", dc.NO)
    assert dc.current(state) == QUESTIONS[step]
    return state


# ---------------------------------------------------------------- the questions

def test_questions_follow_the_article_red_flags_most_dangerous_first():
    ranks = [triage.rank(q.level) for q in QUESTIONS]
    assert ranks == sorted(ranks, reverse=True)
    flags = {q.flag for q in QUESTIONS}
    assert {"face_drooping", "speech", "confusion", "bladder_bowel", "mobility",
            "severe_pain", "continuous_numbness"} <= flags
    assert len({q.id for q in QUESTIONS}) == len(QUESTIONS)


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
def test_each_question_is_short_yes_no_and_agrees_with_triage(question):
    assert len(question.text.split()) < 20
    assert question.text.endswith("?")
    assert triage.flag_level(question.flag) == question.level


def test_start_asks_the_first_question_and_sets_the_state():
    state = SessionState(pending="doctor_check")
    reply = dc.start(state, "en-US")
    assert QUESTIONS[0].text in plain(reply)
    assert str(len(QUESTIONS)) in plain(reply)
    assert state.mode == dc.MODE and state.pending is None
    assert state.doctor == {"v": dc.version(), "step": 0, "n": len(QUESTIONS)}
    assert reply.reprompt and QUESTIONS[0].text in ssml.to_plain_text(reply.reprompt)
    assert not reply.end_session


# ---------------------------------------------------------------- answers

@pytest.mark.parametrize("step", range(len(QUESTIONS)))
@pytest.mark.parametrize("response", [dc.YES, dc.UNSURE])
def test_yes_or_unsure_gives_that_questions_guidance_at_once(step, response):
    state = at_step(step)
    question = QUESTIONS[step]
    reply = dc.answer(state, "en-GB", response)
    text = plain(reply)
    if question.level == "emergency":
        assert text.startswith("Call 999 now.") and reply.end_session
    elif question.level == "urgent":
        assert "today" in text and "999" in text and reply.end_session
    else:
        assert "appointment" in text and not reply.end_session
        assert "check for warning signs" not in text
    assert state.mode == "idle" and state.doctor is None


@pytest.mark.parametrize("step", range(len(QUESTIONS) - 1))
def test_no_moves_to_the_next_question(step):
    state = at_step(step)
    reply = dc.answer(state, "en-US", dc.NO)
    assert QUESTIONS[step + 1].text in plain(reply)
    assert state.doctor["step"] == step + 1
    if step + 1 == len(QUESTIONS) - 1:
        assert plain(reply).startswith("Last one:")


@pytest.mark.parametrize("locale, number", sorted(NUMBERS.items()) + [("xx-XX", None)])
def test_all_no_gives_reassurance_prevention_and_when_to_seek_care(locale, number):
    state = at_step(len(QUESTIONS) - 1)
    reply = dc.answer(state, locale, dc.NO)
    text = plain(reply)
    assert "No warning signs came up" in text
    assert "often harmless" in text                 # reassurance
    assert "Regular breaks from prolonged sitting" in text   # prevention
    assert "professional attention" in text        # when to seek care
    assert (number in text) if number else ("local emergency number" in text)
    assert not reply.end_session and reply.reprompt
    assert state.mode == "idle" and state.doctor is None


def test_all_clear_passages_are_verbatim_and_framing_is_not_medical():
    for passage in DATA["passages"]["all_clear"]:
        assert is_verbatim_excerpt(passage)
    for key, text in DATA["framing"].items():
        assert len(text.split()) <= 25, key


def test_an_unknown_answer_keeps_the_place():
    state = at_step(3)
    reply = dc.answer(state, "en-US", "purple")
    assert QUESTIONS[3].text in plain(reply)
    assert state.doctor["step"] == 3


# ---------------------------------------------------------------- repeat, help, etc.

def test_repeat_says_the_current_question_with_its_number():
    state = at_step(2)
    reply = dc.repeat(state, "en-US")
    assert plain(reply) == f"Question 3 of {len(QUESTIONS)}: {QUESTIONS[2].text}"
    assert state.doctor["step"] == 2


def test_help_explains_and_asks_again():
    state = at_step(4)
    text = plain(dc.help(state, "en-US"))
    assert "yes, no, or not sure" in text and text.endswith(QUESTIONS[4].text)
    assert state.doctor["step"] == 4


@pytest.mark.parametrize("function", [dc.not_understood, dc.noted])
def test_not_understood_and_noted_keep_the_place(function):
    state = at_step(5)
    reply = function(state, "en-US")
    assert plain(reply).endswith(QUESTIONS[5].text)
    assert reply.reprompt and state.doctor["step"] == 5


def test_unsure_outside_the_check_names_the_options():
    reply = dc.unsure_outside(SessionState(), "en-US")
    assert "warning signs" in plain(reply) and reply.reprompt


# ---------------------------------------------------------------- damaged state

GOOD = {"v": 1, "step": 0, "n": len(QUESTIONS)}


@pytest.mark.parametrize("slice_", [
    None, "string", [], {}, {"v": 1}, dict(GOOD, v=999), dict(GOOD, v=True),
    dict(GOOD, step=-1), dict(GOOD, step=len(QUESTIONS)), dict(GOOD, step="0"),
    dict(GOOD, step=1.0), dict(GOOD, step=True), dict(GOOD, n=3), dict(GOOD, extra=1),
])
@pytest.mark.parametrize("action", ["answer_yes", "answer_no", "repeat", "help", "noted"])
def test_tampered_or_stale_state_restarts_politely(slice_, action):
    state = SessionState(mode=dc.MODE, doctor=slice_)
    if action == "answer_yes":
        reply = dc.answer(state, "en-US", dc.YES)
    elif action == "answer_no":
        reply = dc.answer(state, "en-US", dc.NO)
    else:
        reply = getattr(dc, action)(state, "en-US")
    text = plain(reply)
    assert text.startswith("Sorry, I lost my place")
    assert QUESTIONS[0].text in text
    assert "Call" not in text  # a damaged state never fakes a "yes"
    assert state.doctor == GOOD and not reply.end_session


def test_state_survives_a_round_trip_through_session_attributes():
    state = at_step(6)
    restored = SessionState.from_attributes({"pins_and_needles": state.to_attributes()})
    assert dc.current(restored) == QUESTIONS[6]


def test_a_new_question_list_makes_an_old_check_stale(monkeypatch):
    state = at_step(2)
    monkeypatch.setitem(dc._data(), "version", dc.version() + 1)
    assert dc.current(state) is None
    assert plain(dc.answer(state, "en-US", dc.NO)).startswith("Sorry, I lost my place")


def test_not_in_check_means_no_current_question():
    state = SessionState(mode="idle", doctor=dict(GOOD))
    assert dc.current(state) is None and not dc.in_check(state)


def test_the_alexa_layer_uses_the_same_mode_and_offer_names():
    # doctor_handlers keeps its own copies so that it can stay import-free at cold start.
    from skill.alexa import doctor_handlers
    from skill.dialog import guidance

    assert doctor_handlers.MODE == dc.MODE
    assert doctor_handlers.PENDING_START == dc.PENDING_START == guidance.PENDING_CHECK
