"""What the user's words mean where they are: the context the skill knows and Alexa does not.

Alexa's NLU hears each utterance alone. It cannot know that a stretch is under way, so
"done with that one" or "what was that previous one?" may come back as a free-text question
or a symptom story; nor that the doctor check has just asked a yes/no question, so "I
reckon so" may arrive as a story and "dunno mate" as a question. The skill knows. Before
answering, the Alexa layer asks `meaning()` whether the words, in this state, are really
something else, and if so answers that instead:

- inside a stretch, a free-text or topic request whose words are a routine control is that
  control (never a medical passage read out mid-stretch);
- inside the doctor check, yes / no / not-sure / repeat / stop said in other words are
  answers to the question;
- elsewhere, a "why" question that arrived as a symptom story is answered as a question,
  free text that asks for a job (help, the doctor check, a stretch) gets that job, and a
  story that asks why a leg or foot goes to sleep, naming nothing more specific, gets the
  article's own explanation. A question that arrived as a question is left to the ranker.
  Free text the phrase families cannot place is asked of the semantic job recogniser
  (`jobs.py`, by meaning, from the interaction model's own samples of the jobs).

Red flags still come first: the Alexa layer only asks once triage has found none. Pain or
dizziness mid-stretch is never reinterpreted (the routine stops for it). The phrase
families are data (`reinterpret.json`).
"""

from __future__ import annotations

import functools
import re

from skill.content import spoken
from skill.datafiles import read_json
from skill.dialog.state import SessionState

# Intents whose words Alexa had to guess at: free text, or a value of the topic list.
FREE_TEXT_INTENTS = ("QuestionIntent", "SymptomStoryIntent", "TopicIntent")
QUESTION = "QuestionIntent"
WHY = "WhyLegFallsAsleepIntent"
STORY = "SymptomStoryIntent"
HELP = "AMAZON.HelpIntent"
# Jobs that an information question about them does not start (the article answers it).
DOCTOR_CHECK = "DoctorCheckIntent"
ROUTINE = "StartRoutineIntent"
_INFORMATION_JOBS = (DOCTOR_CHECK, ROUTINE)
# What `state.pending` may hold when nothing outside the core, routine and doctor check is
# waiting for an answer; anything else (another feature's confirming question) is left alone.
_OWN_PENDING_PREFIXES = ("more", "causes", "topic:", "doctor_check", "routine", "resume_routine")


@functools.cache
def _data() -> dict:
    return read_json(__file__, "reinterpret.json")


@functools.cache
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def _families(entries: list) -> tuple[tuple[str, re.Pattern], ...]:
    return tuple((intent, _compiled(pattern)) for intent, pattern in entries)


# The form the patterns of reinterpret.json are written against: "didn't" -> "didnt".
normalise = spoken.words


def _first(families, text: str) -> str | None:
    for intent, pattern in families:
        if pattern.search(text):
            return intent
    return None


def meaning(state: SessionState, intent: str | None, texts: list[str]) -> str | None:
    """The intent these words mean in this state, or None to keep the one Alexa chose.

    `texts` are the words heard in the request's slots (raw values first)."""
    pending = state.pending or ""
    if pending and not pending.startswith(_OWN_PENDING_PREFIXES):
        return None
    text = normalise(" ".join(t for t in texts if t))
    if state.mode == "routine":
        return _in_stretch(intent, text)
    if state.mode == "doctor_check":
        return _in_check(intent, text)
    return _anywhere(intent, text)


def _in_stretch(intent: str | None, text: str) -> str | None:
    data = _data()["stretch"]
    if intent not in FREE_TEXT_INTENTS or not text:
        return None
    if _compiled(data["never"]).search(text):
        return None
    control = _first(_families(data["controls"]), text)
    if control is None and _first(_help_families(), text):
        control = HELP  # "I'm lost", "how do I work this": asking for help is asking, anywhere
    return control


def _help_families():
    return tuple(family for family in _families(_data()["anywhere"]["jobs"]) if family[0] == HELP)


def _in_check(intent: str | None, text: str) -> str | None:
    if intent not in FREE_TEXT_INTENTS or not text:
        return None
    return _first(_families(_data()["doctor_check"]["answers"]), text)


def _anywhere(intent: str | None, text: str) -> str | None:
    if intent not in (QUESTION, STORY) or not text:
        return None
    data = _data()["anywhere"]
    # "why does stretching help", "how do reminders help": a question that opens like this
    # asks for information, and the ranker answers it
    informational = intent == QUESTION and bool(
        _compiled(data["information_question"]).search(text))
    job = _first(_families(data["jobs"]), text)
    if job in _INFORMATION_JOBS and informational:
        job = None  # the article answers it; no check or routine starts...
    if job is None:  # ...unless it asks for the job itself, in the shape of a question
        job = _job_asked_as_a_question(text)
    if job is None and not informational:  # the phrase families first, the model last
        job = _recognised_job(intent, text)
    if job is not None:
        return job
    if intent == STORY:  # a story is a story unless it asks why
        if not _compiled(data["why_story"]).search(text):
            return None
        return WHY if is_why_question(text) else QUESTION
    return WHY if is_why_question(text) else None


def _job_asked_as_a_question(text: str) -> str | None:
    """Whether to see a doctor ("when should I see a doctor", "is it bad that my foot keeps
    going numb") is the doctor check; a stretch asked for as a question ("what's a good
    stretch for numb legs") is the stretch. The model's own samples of those jobs say these
    words (`_see_a_doctor`, `_stretch_as_a_question` in reinterpret.json)."""
    data = _data()["anywhere"]
    doctor = data["see_a_doctor"]
    if not _compiled(doctor["not"]).search(text) and (
            _compiled(doctor["whether"]).search(text)
            or (_compiled(doctor["asks"]).search(text) and _compiled(doctor["own"]).search(text))):
        return DOCTOR_CHECK
    if _compiled(data["stretch_as_a_question"]).search(text):
        return ROUTINE
    return None


def _recognised_job(intent: str, text: str) -> str | None:
    """The job the semantic recogniser (`jobs.py`) hears in words no phrase family placed.
    A story is never made a "why" this way (only its own why-words make it one). Never
    asked of an information question (`_anywhere`), so most article questions load no
    model here."""
    from skill.dialog import jobs

    job = jobs.recognise(text)
    return None if intent == STORY and job == WHY else job


def is_why_question(text: str) -> bool:
    """Words about a leg or foot going to sleep that name no condition, treatment or
    prevention: the article's own explanation answers them best."""
    rules = _data()["anywhere"]["why_question"]
    text = normalise(text)
    return bool(_compiled(rules["limb"]).search(text)
                and _compiled(rules["sensation"]).search(text)
                and not _compiled(rules["not"]).search(text))
