"""The job recogniser (skill/dialog/jobs.py) and its use by reinterpret._anywhere, with the real
model; and the generated bank it learns from (job_samples.json, kept in step by the model
builder, whose --check test_interaction_models runs).

The example phrasings below were written for these tests: none is a sample of the model (a
test checks) and none is taken from a blind set (a test counts).
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import pytest

from skill.content import spoken
from skill.dialog import embedding, jobs, reinterpret, suspicion
from skill.dialog.state import SessionState

ROOT = Path(__file__).resolve().parents[1]
BLIND = ROOT / "tests" / "data" / "blind"
IDLE = SessionState()
QUESTION, STORY = "QuestionIntent", "SymptomStoryIntent"

# Requests for a job in words no sample has.
JOBS_IN_OTHER_WORDS = [
    ("take me through a few exercises to perk my legs up", "StartRoutineIntent"),
    ("put me through a little leg workout", "StartRoutineIntent"),
    ("is this something my GP ought to look at or not", "DoctorCheckIntent"),
    ("do you think I ought to have the doctor examine my foot", "DoctorCheckIntent"),
    ("tell me what you are able to do for me", "AMAZON.HelpIntent"),
    ("I am finished with you for today thanks", "AMAZON.StopIntent"),
]
# ... of which these are in words no phrase family of reinterpret.json knows either.
BEYOND_THE_FAMILIES = JOBS_IN_OTHER_WORDS[3:]

# Questions the article answers: the ranker keeps them, whatever job they mention.
ARTICLE_QUESTIONS = [
    "does stretching help with numb legs", "what is a pinched nerve",
    "why does stretching help", "what kind of doctor treats nerve problems",
    "can diabetes make your feet tingle", "how does bad posture affect the sciatic nerve",
]

# Warning signs: red-flag triage answers them before any job is considered.
RED_FLAGS = [
    "my leg won't move at all and I can't stand up",
    "half my face has dropped and my words come out slurred",
]


# The detector's ordinary groups written with the recogniser (requests for jobs, so
# jobs.json leaves them out of its not-a-job side).
MY_ORDINARY_GROUPS = ("routine_variants_and_moving", "whether_to_see_someone", "why_questions")


@pytest.fixture(scope="module")
def built_model():
    assert (embedding.MODEL_DIR / "manifest.json").is_file(), \
        "the static model is not built: run `make model` (tools/build_static_model.py)"


@pytest.mark.parametrize("words, job", JOBS_IN_OTHER_WORDS)
def test_a_job_in_other_words_is_recognised(built_model, words, job):
    assert jobs.recognise(words) == job


@pytest.mark.parametrize("words, job", BEYOND_THE_FAMILIES)
def test_free_text_that_asks_for_a_job_gets_the_job(built_model, words, job):
    families = reinterpret._families(reinterpret._data()["anywhere"]["jobs"])
    assert reinterpret._first(families, reinterpret.normalise(words)) is None
    assert reinterpret.meaning(IDLE, QUESTION, [words]) == job


@pytest.mark.parametrize("words", ARTICLE_QUESTIONS)
def test_an_article_question_stays_with_the_ranker(built_model, words):
    assert reinterpret.meaning(IDLE, QUESTION, [words]) in (None, reinterpret.WHY)
    assert reinterpret.meaning(IDLE, QUESTION, [words]) not in (
        "StartRoutineIntent", "DoctorCheckIntent", "AMAZON.HelpIntent", "AMAZON.StopIntent")


@pytest.mark.parametrize("words", RED_FLAGS)
def test_a_warning_sign_is_never_a_job(built_model, words):
    assert jobs.recognise(words) is None


@pytest.mark.parametrize("words", RED_FLAGS)
def test_red_flags_still_come_first(words):
    from skill.dialog import safety

    decision = safety.decide([words], STORY)
    assert decision.action in (safety.EMERGENCY, safety.URGENT)


def test_an_ordinary_story_is_not_made_a_why_question_by_meaning(built_model):
    """A story is a "why" only when its own words ask why (reinterpret.json's why_story)."""
    assert reinterpret.meaning(IDLE, STORY, ["my foot went to sleep on the coach trip"]) is None


@pytest.mark.parametrize("text", ["", "   ", None, 42, "x" * 50_000, "🦵🦵", "\x00\x01"])
def test_never_raises_on_odd_input(built_model, text):
    assert jobs.recognise(text) is None or isinstance(jobs.recognise(text), str)


def test_a_missing_model_recognises_nothing_with_one_warning(model_taken_away, caplog):
    with model_taken_away(), caplog.at_level(logging.WARNING, logger=jobs.__name__):
        assert jobs.recognise(JOBS_IN_OTHER_WORDS[0][0]) is None
        assert jobs.recognise(BEYOND_THE_FAMILIES[0][0]) is None
        assert reinterpret.meaning(IDLE, QUESTION, [BEYOND_THE_FAMILIES[0][0]]) is None
        # the phrase families still work without the model
        assert reinterpret.meaning(IDLE, QUESTION, ["should I see a doctor"]) == \
            "DoctorCheckIntent"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "unavailable" in warnings[0].getMessage()
    assert jobs.recognise(JOBS_IN_OTHER_WORDS[0][0]) == JOBS_IN_OTHER_WORDS[0][1]


def test_the_bank_is_the_models_slotless_samples():
    """One source of truth: every sample in job_samples.json is a slotless sample of its
    intent in a generated interaction model, and every job intent has samples."""
    models = ROOT / "skill-package" / "interactionModels" / "custom"
    samples: dict[str, set[str]] = {}
    for path in models.glob("*.json"):
        for intent in json.loads(path.read_text("utf-8"))["interactionModel"][
                "languageModel"]["intents"]:
            samples.setdefault(intent["name"], set()).update(intent.get("samples", []))
    bank = jobs.job_samples()
    assert set(bank) >= {"WhyLegFallsAsleepIntent", "StartRoutineIntent", "DoctorCheckIntent",
                         "AMAZON.HelpIntent", "AMAZON.StopIntent"}
    for intent, texts in bank.items():
        assert texts, intent
        assert all("{" not in t for t in texts)
        assert set(texts) <= samples[intent], intent


def test_settings_require_a_similarity_and_a_margin():
    settings = json.loads((ROOT / "skill" / "dialog" / "jobs.json").read_text("utf-8"))
    assert 0 < settings["settings"]["min_similarity"] < 1
    assert settings["settings"]["min_margin"] > 0
    ordinary = json.loads((ROOT / "skill" / "dialog" / "suspicion_bank.json")
                          .read_text("utf-8"))["ordinary"]
    assert set(settings["ordinary_groups_left_out"]) <= set(ordinary)


def test_the_detector_counts_stretch_requests_as_ordinary(built_model):
    """A request to get the legs moving is a stretch, not a leg that will not move."""
    assert suspicion.suspect("let's get a bit of movement into these stiff old legs") is None
    assert suspicion.suspect("my leg has gone completely limp and I can't lift it") is not None


def test_examples_are_new_and_not_copied_from_a_blind_set():
    mine = {spoken.words(t) for t, _ in JOBS_IN_OTHER_WORDS} | \
        {spoken.words(t) for t in ARTICLE_QUESTIONS}
    samples = {spoken.words(t) for texts in jobs.job_samples().values() for t in texts}
    assert not mine & samples, "test examples must be new to the recogniser"
    hand_written = set(mine)
    settings = json.loads((ROOT / "skill" / "dialog" / "jobs.json").read_text("utf-8"))
    hand_written |= {spoken.words(t) for name, group in settings["not_jobs"].items()
                     if not name.startswith("_") for t in group}
    bank = json.loads((ROOT / "skill" / "dialog" / "suspicion_bank.json").read_text("utf-8"))
    hand_written |= {spoken.words(t) for name in MY_ORDINARY_GROUPS for t in bank["ordinary"][name]}
    for blind_set in sorted(BLIND.glob("*.tsv")):
        with blind_set.open(encoding="utf-8", newline="") as handle:
            blind = {spoken.words(row["text"]) for row in csv.DictReader(handle, delimiter="\t")}
        copied = len(hand_written & blind)  # a count: a failure never prints a holdout's items
        assert copied == 0, f"{copied} hand-written sentences are items of {blind_set.name}"
