"""The backend reads the interaction model's own answer and control samples as the model does.

Alexa hears each utterance alone, so an answer or a control can reach the skill as free text
(a carrier's leftovers, or a statistical NLU's guess). `reinterpret` must then mean what the
model's samples for that intent mean; a sample of "no" read as "yes" sends a person to 911,
and "I'd rather not continue" read as "continue" keeps a stretch going that should stop.
Every sample of the en-US model is played here, not a hand-picked list.
"""

import functools
import json
from pathlib import Path

import pytest

from skill.dialog import reinterpret
from skill.dialog.state import SessionState

MODEL = Path(__file__).resolve().parents[1] / "skill-package" / "interactionModels" / "custom" / "en-US.json"


@functools.cache
def _intents() -> dict[str, list[str]]:
    model = json.loads(MODEL.read_text("utf-8"))["interactionModel"]["languageModel"]
    return {i["name"]: i.get("samples", []) for i in model["intents"]}


def samples(intent: str) -> list[str]:
    return _intents()[intent]


# Outside a stretch or the check only a question or a story is reread (a topic request is a topic).
CARRIERS = {"routine": reinterpret.FREE_TEXT_INTENTS, "doctor_check": reinterpret.FREE_TEXT_INTENTS,
            "idle": (reinterpret.QUESTION, reinterpret.STORY)}


def heard(mode: str, words: str) -> set[str | None]:
    """What the words mean in this mode, whichever free-text intent carried them."""
    return {reinterpret.meaning(SessionState(mode=mode), intent, [words]) for intent in CARRIERS[mode]}


@pytest.mark.parametrize("intent", ["AMAZON.YesIntent", "AMAZON.NoIntent", "UnsureIntent",
                                    "AMAZON.RepeatIntent"])
def test_in_the_doctor_check_every_answer_sample_is_that_answer(intent):
    wrong = {s: heard("doctor_check", s) for s in samples(intent)}
    wrong = {s: h for s, h in wrong.items() if h != {intent}}
    assert not wrong


# Read as "no" (the check goes on, which is the safer reading) rather than as the model's stop:
# "nothing else" and "that's grand thanks" answer the question as often as they end it.
STOPS_READ_AS_NO = {"nothing else", "nothing else thanks", "that's grand thanks", "no more stretches"}


def test_in_the_doctor_check_a_goodbye_is_never_a_yes_or_not_sure():
    for words in samples("AMAZON.StopIntent"):
        allowed = {"AMAZON.StopIntent", None} | ({"AMAZON.NoIntent"} if words in STOPS_READ_AS_NO else set())
        assert heard("doctor_check", words) <= allowed, words


def test_in_a_stretch_every_way_of_leaving_leaves_or_is_left_to_alexa():
    """Never another control: "I'd rather not continue" must not carry on, nor "I have to go"
    count the steps to go."""
    for words in samples("AMAZON.StopIntent"):
        assert heard("routine", words) <= {"AMAZON.StopIntent", None}, words
    assert all(heard("routine", w) == {"AMAZON.StopIntent"} for w in
               ("I'd rather not continue", "I don't want to continue", "I have to go", "goodbye"))


def test_in_a_stretch_no_other_control_sample_is_read_as_leaving():
    """Pause is the exception that does no harm: both keep the place and end the session."""
    for intent in ("AMAZON.NextIntent", "AMAZON.PreviousIntent", "AMAZON.RepeatIntent",
                   "AMAZON.ResumeIntent", "AMAZON.StartOverIntent", "SkipStepIntent",
                   "StepsLeftIntent", "AMAZON.HelpIntent"):
        for words in samples(intent):
            assert "AMAZON.StopIntent" not in heard("routine", words), (intent, words)


def slotless(intent: str) -> list[str]:
    return [s for s in samples(intent) if "{" not in s]


@pytest.mark.parametrize("intent", ["DoctorCheckIntent", "StartRoutineIntent", "AMAZON.HelpIntent"])
def test_outside_a_stretch_or_check_every_job_sample_is_that_job(intent):
    """'When should I see a doctor', 'what's a good stretch for numb legs', 'I'm lost': Alexa
    starts the job for these words, so free text saying them does too."""
    wrong = {s: h for s in slotless(intent) if (h := heard("idle", s)) != {intent}}
    assert not wrong


def test_outside_a_stretch_ending_is_never_another_job():
    """'Stop the stretch' said in a new session must not start the stretch."""
    leaving = {"AMAZON.StopIntent", "AMAZON.CancelIntent", None}
    for intent in ("AMAZON.StopIntent", "AMAZON.CancelIntent"):
        for words in slotless(intent):
            assert heard("idle", words) <= leaving, words


def test_outside_a_stretch_a_why_sample_is_the_why_or_left_to_the_ranker():
    for words in slotless("WhyLegFallsAsleepIntent"):
        assert heard("idle", words) <= {"WhyLegFallsAsleepIntent", "QuestionIntent", None}, words


# Controls whose effect is the same mid-stretch: on to the next step, or keep the place and end.
MOVE_ON = {"AMAZON.NextIntent", "AMAZON.ResumeIntent", "SkipStepIntent"}
END_HERE = {"AMAZON.PauseIntent", "AMAZON.StopIntent"}
# The model's own words that say two things: "finish the stretch" (resume; "finish the
# exercise" is a stop), "repeat the last step" (this one or the one before?), "start again
# where we stopped" (over, or on?), "how do I go to the next one", "what do I do next" (help,
# or just do it).
SAY_TWO_THINGS = {"finish my stretch", "finish the stretch", "let's finish the stretch",
                  "repeat the last step", "start again where we stopped",
                  "how do I go to the next one", "how do I move along", "how do I go to the next stretch",
                  "what do I do next"}


@pytest.mark.parametrize("intent", ["AMAZON.NextIntent", "AMAZON.PreviousIntent", "AMAZON.RepeatIntent",
                                    "AMAZON.PauseIntent", "AMAZON.ResumeIntent", "AMAZON.StartOverIntent",
                                    "SkipStepIntent", "StepsLeftIntent", "AMAZON.HelpIntent"])
def test_in_a_stretch_every_control_sample_does_what_the_model_says(intent):
    """'Moving on', 'where were we', 'leave that one out', 'I'm lost': a control that reaches
    the skill as free text does what Alexa would have done with the same words."""
    allowed = MOVE_ON if intent in MOVE_ON else END_HERE if intent in END_HERE else {intent}
    wrong = {s: h for s in samples(intent) if s not in SAY_TWO_THINGS
             and not (len(h := heard("routine", s)) == 1 and h <= allowed)}
    assert not wrong
