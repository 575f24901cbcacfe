"""The stretch routine's state machine, its data, and the limits Alexa puts on its speech."""

from __future__ import annotations

import re
import string
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skill.content import is_verbatim_excerpt
from skill.dialog import routine, ssml
from skill.dialog.reply import Reply
from skill.dialog.state import SessionState

BREAK = re.compile(r'<break time="(\d+(?:\.\d+)?)(ms|s)"/>')
MAX_AUDIO_SECONDS = 75  # Alexa allows 90 s of audio per response; stay well under it


def breaks(speech: str) -> list[float]:
    return [float(v) / (1000 if unit == "ms" else 1) for v, unit in BREAK.findall(speech)]


def check_reply(reply: Reply) -> None:
    """What Alexa needs from every routine response."""
    for fragment in (reply.speech, reply.reprompt):
        if fragment is None:
            continue
        ET.fromstring(ssml.wrap(fragment))  # well-formed SSML
        assert len(ssml.wrap(fragment)) <= 8000
        assert all(0 < b <= 10 for b in breaks(fragment))
        assert "<break" not in BREAK.sub("", fragment)  # every break is one we recognise
    assert routine.spoken_seconds(reply.speech) <= MAX_AUDIO_SECONDS
    assert reply.end_session or reply.reprompt


def started(variant: str | None = None, **kwargs) -> tuple[SessionState, Reply]:
    state = SessionState()
    return state, routine.start(state, variant, **kwargs)


def walk_to(variant: str, step: int) -> SessionState:
    state, _ = started(variant)
    for _ in range(step):
        routine.next_step(state)
    return state


def plain(reply: Reply) -> str:
    return ssml.to_plain_text(reply.speech)


# --------------------------------------------------------------------------- data


def test_two_variants_and_a_justified_default():
    data = routine.data()
    assert set(routine.variants()) == {"seated", "standing"}
    assert routine.default_variant() == "seated"
    assert "stand" in data["_default_variant_why"]


def all_article_strings():
    data = routine.data()
    for variant in routine.variants():
        for step in routine.steps(variant):
            for sentence in step.get("why", ()):
                yield f"{variant}/{step['id']}", sentence
    yield "closing", data["closing"]["article"]
    for sentence in data["discomfort"]["article"]:
        yield "discomfort", sentence


@pytest.mark.parametrize("where,sentence", list(all_article_strings()))
def test_every_medical_sentence_is_verbatim_from_the_article(where, sentence):
    assert is_verbatim_excerpt(sentence), f"{where}: not in the article: {sentence!r}"


def test_closing_is_the_articles_daily_life_passage():
    assert routine.data()["closing"]["article"].startswith(
        "Integrating these movements into daily life is essential.")


def test_routine_covers_the_articles_prevention_advice():
    """Walk every 30 to 60 minutes, hips/hamstrings/calves, ankle circles, posture."""
    for variant in routine.variants():
        text = " ".join(" ".join((*s.get("why", ()), s["instruction"], s.get("after", "")))
                        for s in routine.steps(variant))
        assert "every 30 to 60 minutes" in text
        assert "hips, hamstrings, and calves" in text
        assert "ankle circles" in text
        assert "uncross" in text.lower() or "crossing legs" in text
        assert "feet flat" in text


def test_steps_are_well_formed():
    words = routine.data()["prompts"]["count_words"]
    for variant in routine.variants():
        ids = [s["id"] for s in routine.steps(variant)]
        assert len(ids) == len(set(ids)) and 3 <= len(ids) <= 8
        for step in routine.steps(variant):
            assert set(step) <= {"id", "name", "instruction", "timing", "why", "after"}
            assert step["name"] and len(step["instruction"]) <= 240, step["id"]
            timing = step["timing"]
            assert timing["kind"] in ("hold", "count")
            assert 1 <= timing["seconds"] <= 30
            assert timing["cues"]
            if timing["kind"] == "count":
                assert 1 <= timing["count"] <= len(words)


def test_our_instructions_are_short_and_plain():
    """Our words, not the article's: short sentences a person can follow mid-stretch."""
    for variant in routine.variants():
        for step in routine.steps(variant):
            for sentence in re.split(r"(?<=[.!?])\s+", step["instruction"]):
                assert len(sentence.split()) <= 30, sentence


def test_prompt_placeholders_are_all_filled():
    values = {"name": "x", "number": 1, "total": 2, "left": 1, "minutes": 3}
    for key, template in routine.data()["prompts"].items():
        if isinstance(template, str):
            fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
            assert fields <= set(values), key
            template.format(**values)


# --------------------------------------------------------------------------- start


def test_start_defaults_to_seated_and_enters_the_routine():
    state, reply = started()
    assert state.mode == "routine"
    assert state.routine == {"v": 1, "variant": "seated", "step": 0, "paused": False}
    text = plain(reply)
    assert "seated stretch" in text and "Step 1 of 6" in text
    assert "say ouch" in text  # how to stop if it hurts, before anything starts
    assert "Say next when you're ready." in text
    assert reply.card_title == "Seated stretch: step 1 of 6, Sit tall"
    check_reply(reply)


@pytest.mark.parametrize("heard,variant", [
    ("standing", "standing"), ("standing stretch", "standing"), ("Standing", "standing"),
    ("seated", "seated"), ("sitting", "seated"), ("at my desk", "seated"),
    ("on a plane", "seated"), ("stand up", "standing"), (None, "seated"), ("purple", "seated"),
])
def test_variant_from_what_was_heard(heard, variant):
    state, _ = started(heard)
    assert state.routine["variant"] == variant


def test_disclaimer_only_when_asked_for():
    _, first = started(with_disclaimer=True)
    _, again = started()
    assert "not a substitute for professional medical advice" in plain(first)
    assert "not a substitute" not in plain(again)
    check_reply(first)


def test_promised_minutes_match_the_steps():
    _, reply = started("standing")
    assert f"about {routine.minutes('standing')} minutes" in plain(reply)
    assert 2 <= routine.minutes("standing") <= 8


def test_start_while_stretching_same_variant_keeps_the_place():
    state = walk_to("seated", 2)
    reply = routine.start(state, None)
    assert state.routine["step"] == 2
    assert "already on the seated stretch" in plain(reply) and "Step 3 of 6" in plain(reply)


def test_start_while_stretching_other_variant_switches():
    state = walk_to("seated", 3)
    reply = routine.start(state, "standing")
    assert state.routine == {"v": 1, "variant": "standing", "step": 0, "paused": False}
    assert "switching to the standing stretch" in plain(reply)


# --------------------------------------------------------------------------- every step


@pytest.mark.parametrize("variant", ["seated", "standing"])
def test_whole_routine_fits_alexa_limits_and_ends_with_the_passage(variant):
    state, reply = started(variant, with_disclaimer=True)
    heard = [reply]
    while not reply.end_session:
        reply = routine.next_step(state)
        heard.append(reply)
    assert len(heard) == len(routine.steps(variant)) + 1
    for number, step_reply in enumerate(heard[:-1], 1):
        check_reply(step_reply)
        assert f"Step {number} of 6" in plain(step_reply)
        assert step_reply.screen["data"]["progressText"] == f"Step {number} of 6"
    closing = heard[-1]
    check_reply(closing)
    assert closing.end_session
    assert "Integrating these movements into daily life is essential." in plain(closing)
    assert "That's the whole routine." in plain(closing)
    assert state.mode == "idle" and state.routine is None


@pytest.mark.parametrize("variant", ["seated", "standing"])
def test_holds_are_real_silence(variant):
    """The pauses add up to the step's timing: a 15 s hold is 15 s of silence."""
    for index, step in enumerate(routine.steps(variant)):
        state = walk_to(variant, index)
        silence = sum(breaks(routine.repeat(state).speech))
        timing = step["timing"]
        per_cue = timing["seconds"] * (timing.get("count", 1))
        expected = per_cue * len(timing["cues"])
        assert expected <= silence <= expected + 2 * len(timing["cues"]), step["id"]


def test_long_hold_is_chained_and_has_a_halfway_cue():
    state = walk_to("standing", 1)  # walking: 30 s
    speech = routine.repeat(state).speech
    assert breaks(speech).count(10) >= 2 or sum(breaks(speech)) >= 30
    assert "Halfway." in ssml.to_plain_text(speech)
    assert max(breaks(speech)) <= 10


def test_count_is_spoken():
    state = walk_to("seated", 2)
    text = plain(routine.repeat(state))
    assert "One. Two. Three." in text and "Ten." in text and "Eleven" not in text


def test_last_step_says_it_is_the_last():
    state = walk_to("seated", 5)
    assert "That was the last stretch." in plain(routine.repeat(state))


# --------------------------------------------------------------------------- controls


def test_previous_and_its_lower_bound():
    state = walk_to("seated", 2)
    reply = routine.previous_step(state)
    assert state.routine["step"] == 1 and "Step 2 of 6" in plain(reply)
    routine.previous_step(state)
    reply = routine.previous_step(state)
    assert state.routine["step"] == 0
    assert "first step already" in plain(reply) and "Step 1 of 6" in plain(reply)
    check_reply(reply)


def test_repeat_is_the_whole_current_step():
    state = walk_to("standing", 3)
    first = routine.repeat(state)
    routine.steps_left(state)
    again = routine.repeat(state)
    assert first.speech == again.speech and state.routine["step"] == 3


def test_skip_moves_on_and_skipping_the_last_finishes():
    state = walk_to("seated", 1)
    reply = routine.skip(state)
    assert state.routine["step"] == 2 and plain(reply).startswith("Okay, skipping that one.")
    state = walk_to("seated", 5)
    reply = routine.skip(state)
    assert reply.end_session and "Integrating these movements" in plain(reply)


def test_start_over():
    state = walk_to("standing", 4)
    reply = routine.start_over(state)
    assert state.routine["step"] == 0 and plain(reply).startswith("Okay, from the top.")


@pytest.mark.parametrize("step,expected", [
    (0, "This is step 1 of 6. After this one, 5 more."),
    (4, "This is step 5 of 6. After this one, just one more."),
    (5, "This is step 6 of 6, the last one."),
])
def test_steps_left(step, expected):
    state = walk_to("seated", step)
    reply = routine.steps_left(state)
    assert plain(reply) == expected
    assert state.routine["step"] == step and reply.reprompt
    check_reply(reply)


def test_pause_ends_the_session_and_resume_replays_the_step():
    state = walk_to("seated", 3)
    reply = routine.pause(state)
    assert reply.end_session and "Paused at step 4 of 6" in plain(reply)
    assert "resume" in plain(reply)
    assert state.routine["paused"] is True
    reply = routine.resume(state)
    assert state.routine == {"v": 1, "variant": "seated", "step": 3, "paused": False}
    assert plain(reply).startswith("Okay, let's carry on.") and "Step 4 of 6" in plain(reply)


def test_resume_without_a_pause_means_carry_on_to_the_next():
    state = walk_to("seated", 1)
    routine.resume(state)
    assert state.routine["step"] == 2


def test_stop_remembers_the_position():
    state = walk_to("standing", 2)
    reply = routine.stop(state)
    assert reply.end_session and "step 3 of 6" in plain(reply)
    memory: dict = {}
    assert routine.remember_position(memory, state, now=1000)
    assert memory["routine"] == {"v": 1, "variant": "standing", "step": 2, "saved_at": 1000}


def test_help_explains_every_control():
    state = walk_to("seated", 1)
    reply = routine.help(state)
    text = plain(reply).lower()
    for word in ("next", "back", "repeat", "skip", "how many are left", "pause", "start over",
                 "stop", "ouch"):
        assert word in text, word
    assert "step 2 of 6" in text and reply.reprompt and not reply.end_session
    assert state.routine["step"] == 1


def test_no_and_fallback_keep_waiting():
    state = walk_to("seated", 1)
    for reply in (routine.not_yet(state), routine.fallback(state)):
        assert not reply.end_session and reply.reprompt
        assert state.mode == "routine" and state.routine["step"] == 1


# --------------------------------------------------------------------------- validation


CONTROLS = [routine.next_step, routine.previous_step, routine.repeat, routine.pause,
            routine.resume, routine.start_over, routine.skip, routine.steps_left, routine.stop,
            routine.help, routine.fallback, routine.not_yet]


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("bad", [
    None, "seated", [], {}, {"v": 2, "variant": "seated", "step": 0, "paused": False},
    {"v": 1, "variant": "lying", "step": 0, "paused": False},
    {"v": 1, "variant": "seated", "step": 6, "paused": False},
    {"v": 1, "variant": "seated", "step": -1, "paused": False},
    {"v": 1, "variant": "seated", "step": True, "paused": False},
    {"v": 1, "variant": "seated", "step": 1.0, "paused": False},
    {"v": 1, "variant": "seated", "step": 1, "paused": "no"},
    {"v": 1, "variant": "standing", "step": 1, "paused": False, "extra": 1},
], ids=repr)
def test_tampered_slice_restarts_politely(control, bad):
    state = SessionState(mode="routine", routine=bad)
    reply = control(state)
    assert "lost my place" in plain(reply) and "Step 1 of 6" in plain(reply)
    assert routine.validate(state.routine) == state.routine
    assert state.routine["step"] == 0
    expected = bad["variant"] if isinstance(bad, dict) and bad.get("variant") == "standing" \
        else "seated"
    assert state.routine["variant"] == expected
    check_reply(reply)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10)


@settings(max_examples=200, deadline=None)
@given(raw=json_values | st.fixed_dictionaries(
    {"v": json_values | st.just(1), "variant": st.sampled_from(["seated", "standing", "x"]),
     "step": json_values | st.integers(-2, 8), "paused": json_values | st.booleans()}),
    control=st.sampled_from(CONTROLS))
def test_any_session_junk_never_crashes_a_control(raw, control):
    state = SessionState(mode="routine", routine=raw)
    reply = control(state)
    check_reply(reply)
    assert state.routine is None or routine.validate(state.routine) == state.routine


def test_validate_accepts_only_what_we_write():
    state, _ = started("standing")
    assert routine.validate(state.routine) == state.routine
    assert routine.validate({"v": 1, "variant": "seated", "step": 0}) == \
        {"v": 1, "variant": "seated", "step": 0, "paused": False}


# --------------------------------------------------------------------------- discomfort


def test_is_no_concern_reads_the_assessment_level():
    class Assessment:
        def __init__(self, level):
            self.level = level
            self.flags = ()

    assert routine.is_no_concern(None)
    assert routine.is_no_concern(Assessment("none"))
    assert routine.is_no_concern(Assessment("NONE"))
    assert not routine.is_no_concern(Assessment("emergency"))
    assert not routine.is_no_concern(Assessment("see_doctor"))


def test_ouch_stops_the_routine_gently_and_keeps_the_session_open():
    state = walk_to("seated", 3)
    reply = routine.discomfort(state, "ouch", "en-US")
    text = plain(reply)
    assert state.mode == "idle" and state.routine is None
    assert text.startswith("Let's stop the stretch here.")
    assert "If numbness lasts longer than a few minutes" in text
    assert "It is important to seek medical advice" in text
    assert not reply.end_session and reply.reprompt
    assert "Step" not in text  # the routine does not carry on by itself
    check_reply(reply)
    memory = {"routine": {"v": 1, "variant": "seated", "step": 3, "saved_at": 1}}
    assert routine.remember_position(memory, state)
    assert "routine" not in memory  # and is not offered back next time


def test_dizzy_mid_stretch_gets_the_triages_routine_guidance():
    state = walk_to("standing", 2)
    reply = routine.discomfort(state, "I feel dizzy", "en-US")
    text = plain(reply)
    assert text.startswith("Let's stop the stretch here.")
    assert "appointment" in text and "Step" not in text
    assert state.routine is None and state.mode == "idle"
    assert not reply.end_session and reply.reprompt
    check_reply(reply)


def test_severe_pain_mid_stretch_gets_urgent_guidance_first():
    state = walk_to("seated", 3)
    reply = routine.discomfort(state, "it hurts a lot", "en-US")
    text = plain(reply)
    assert not text.startswith("Let's stop")  # the action comes first, nothing of ours
    assert "today" in text and "911" in text
    assert reply.end_session and state.routine is None


def test_emergency_words_mid_stretch_start_with_the_call():
    state = walk_to("seated", 1)
    reply = routine.discomfort(state, "my face is drooping", "en-GB")
    assert plain(reply).startswith("Call 999 now.")
    assert reply.end_session and state.routine is None and state.mode == "idle"


# --------------------------------------------------------------------------- memory


def test_remember_position_writes_only_on_change():
    state = walk_to("seated", 2)
    memory = {"heard_disclaimer": True}
    assert routine.remember_position(memory, state, now=50)
    assert not routine.remember_position(memory, state, now=60)
    assert memory["routine"]["saved_at"] == 50
    routine.next_step(state)
    assert routine.remember_position(memory, state, now=70)
    assert memory["routine"]["step"] == 3 and memory["heard_disclaimer"] is True
    assert not routine.remember_position({}, SessionState())


def test_resume_offer_for_a_recent_unfinished_routine():
    memory = {"routine": {"v": 1, "variant": "seated", "step": 2, "saved_at": 10_000}}
    state = SessionState()
    offer = routine.resume_offer(state, memory, now=10_000 + 3600)
    assert plain(offer) == "Welcome back. Want to finish your seated stretch from step 3 of 6?"
    assert state.pending == routine.PENDING_RESUME and offer.reprompt
    check_reply(offer)


@pytest.mark.parametrize("memory,now", [
    ({}, 0),
    ({"routine": {"v": 1, "variant": "seated", "step": 0, "saved_at": 0}}, 10),  # nothing done
    ({"routine": {"v": 1, "variant": "seated", "step": 2, "saved_at": 0}}, 25 * 3600),  # stale
    ({"routine": {"v": 1, "variant": "seated", "step": 2, "saved_at": 100}}, 0),  # future
    ({"routine": {"v": 1, "variant": "seated", "step": 9, "saved_at": 0}}, 10),
    ({"routine": {"v": 1, "variant": "seated", "step": 2}}, 10),
    ({"routine": "step 3"}, 10),
    (None, 10),
])
def test_no_resume_offer(memory, now):
    state = SessionState()
    assert routine.resume_offer(state, memory, now=now) is None
    assert state.pending is None


def test_yes_to_the_offer_resumes_at_the_saved_step():
    memory = {"routine": {"v": 1, "variant": "standing", "step": 3, "saved_at": 5}}
    state = SessionState()
    reply = routine.resume_saved(state, memory)
    assert state.mode == "routine" and state.routine["step"] == 3
    assert "Picking up at step 4" in plain(reply) and "Step 4 of 6" in plain(reply)
    check_reply(reply)


def test_resume_with_nothing_saved_starts_fresh():
    state = SessionState()
    reply = routine.resume_saved(state, {})
    assert "no stretch to pick up" in plain(reply) and state.routine["step"] == 0
    check_reply(reply)


def test_no_to_the_offer_forgets_it():
    memory = {"routine": {"v": 1, "variant": "seated", "step": 3, "saved_at": 5}}
    state = SessionState(pending=routine.PENDING_RESUME)
    reply = routine.decline_resume(state)
    assert state.pending is None and reply.reprompt and not reply.end_session
    assert routine.remember_position(memory, state) and memory == {}


# --------------------------------------------------------------------------- screens


def test_screen_shape():
    screen = routine.screen_for("seated", 1)
    assert screen["document"] == "stretch_step"
    assert screen["data"] == {
        "title": "Seated stretch", "stepName": "Ankle circles",
        "instruction": routine.steps("seated")[1]["instruction"],
        "why": routine.steps("seated")[1]["why"][0], "stepNumber": 2, "totalSteps": 6,
        "progressText": "Step 2 of 6", "hint": "Say next when you're ready.",
    }


def test_non_step_replies_have_no_screen():
    state = walk_to("seated", 1)
    assert routine.steps_left(state).screen is None
    assert routine.help(state).screen is None


def test_discomfort_outside_the_routine_does_not_mention_a_stretch():
    state = SessionState(mode="topic", topic="causes")
    reply = routine.discomfort(state, "it hurts", "en-US")
    text = plain(reply)
    assert "stretch here" not in text and text.startswith("I'm sorry it's uncomfortable.")
    assert "It is important to seek medical advice" in text
    assert not reply.end_session and reply.reprompt
