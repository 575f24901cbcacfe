"""The hands-free "should I see a doctor" check: the article's red flags as yes/no questions.

Why this shape: someone asking "is this serious" may be worried and not at a screen, so
the skill asks one short question at a time, the most dangerous first, and answers the
first "yes" with the right guidance at once (emergency guidance ends the session). "I'm
not sure" and "maybe" count as yes: when unsure, err toward care. Only after every answer
is "no" does the user hear the article's reassurance and prevention advice.

State: `state.mode == "doctor_check"` with `state.doctor = {"v": version, "step": i,
"n": count}`, where `i` is the question being asked. The slice is validated on every turn;
anything tampered or stale (another version of the question list, a step out of range,
the mode without the slice) restarts the check with a short apology, never an error.

The questions and framing live in doctor_check.json; the guidance in `guidance`.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from skill.datafiles import read_json
from skill.dialog import guidance, locales, prompts, ssml
from skill.dialog.reply import Reply
from skill.dialog.state import SessionState

MODE = "doctor_check"
YES, NO, UNSURE = "yes", "no", "unsure"
ANSWERS = (YES, NO, UNSURE)
PENDING_START = guidance.PENDING_CHECK


class Question(NamedTuple):
    """One yes/no question: the red flag it asks about, its triage level, and its words."""

    id: str
    flag: str
    level: str
    text: str


@functools.cache
def _data() -> dict:
    return read_json(__file__, "doctor_check.json")


def version() -> int:
    return int(_data()["version"])


@functools.cache
def questions() -> tuple[Question, ...]:
    """The questions, in the order asked (most dangerous first)."""
    return tuple(Question(q["id"], q["flag"], q["level"], q["text"])
                 for q in _data()["questions"])


def _framing(key: str, **values) -> str:
    return _data()["framing"][key].format(**values)


# ------------------------------------------------------------------------ state


def validated(slice_) -> dict | None:
    """The doctor slice if it is exactly what this version writes, else None."""
    if not isinstance(slice_, dict) or set(slice_) != {"v", "step", "n"}:
        return None
    step, count, ver = slice_["step"], slice_["n"], slice_["v"]
    for value in (step, count, ver):
        if not isinstance(value, int) or isinstance(value, bool):
            return None
    if ver != version() or count != len(questions()) or not 0 <= step < count:
        return None
    return slice_


def in_check(state: SessionState) -> bool:
    """True while the check owns the conversation (even if its slice is damaged)."""
    return state.mode == MODE


def current(state: SessionState) -> Question | None:
    """The question being asked, or None when there is no valid check in progress."""
    slice_ = validated(state.doctor) if state.mode == MODE else None
    return None if slice_ is None else questions()[slice_["step"]]


def _set_step(state: SessionState, step: int) -> None:
    state.mode = MODE
    state.pending = None
    state.doctor = {"v": version(), "step": step, "n": len(questions())}


def _leave(state: SessionState) -> None:
    state.mode = "idle"
    state.doctor = None
    state.pending = None


def screen_for(state: SessionState) -> dict | None:
    """What a device with a screen shows while a question is open (`skill/alexa/apl.py`)."""
    question = current(state)
    if question is None:
        return None
    number, count = validated(state.doctor)["step"] + 1, len(questions())
    return {"document": "doctor_question",
            "data": {"question": question.text, "questionNumber": number,
                     "totalQuestions": count, "progressText": f"Question {number} of {count}"}}


# ------------------------------------------------------------------------ replies


def _ask(state: SessionState, step: int, lead: str) -> Reply:
    """Ask question `step`; `lead` is the framing before it (intro, "Next:", apology)."""
    _set_step(state, step)
    question = questions()[step].text
    count = len(questions())
    key = "first" if step == 0 else ("last" if step == count - 1 else "next")
    spoken = " ".join(p for p in (lead, _framing(key, question=question)) if p)
    return Reply(
        speech=ssml.escape(spoken),
        reprompt=ssml.escape(_framing("reprompt", question=question)),
        card_title=_framing("card_title"),
        card_text=f"Question {step + 1} of {count}: {question}",
        screen=screen_for(state),
    )


def start(state: SessionState, locale: str | None = None) -> Reply:
    """Begin (or begin again) at the most dangerous question."""
    return _ask(state, 0, _framing("intro", count=len(questions())))


def restart(state: SessionState, locale: str | None = None) -> Reply:
    """A damaged or stale check: apologise briefly and start from the first question."""
    return _ask(state, 0, _framing("restart"))


def answer(state: SessionState, locale: str | None, response: str) -> Reply:
    """"yes", "no" or "unsure" to the current question. Unsure counts as yes."""
    question = current(state)
    if question is None:
        return restart(state, locale)
    if response not in ANSWERS:
        return not_understood(state, locale)
    if response in (YES, UNSURE):
        return _guidance_for(state, question, locale)
    step = validated(state.doctor)["step"] + 1
    if step >= len(questions()):
        return all_clear(state, locale)
    return _ask(state, step, "")


def _guidance_for(state: SessionState, question: Question, locale: str | None) -> Reply:
    _leave(state)
    if question.level == guidance.ROUTINE:
        return guidance.routine(locale, question.flag, offer_check=False)
    return guidance.reply_for(question.level, locale, question.flag)


def all_clear(state: SessionState, locale: str | None) -> Reply:
    """Every answer was no: reassurance, prevention and when to seek care, from the article."""
    _leave(state)
    info = locales.info(locale)
    close_key = "all_clear_close" if info.known else "all_clear_close_unknown"
    passages = _data()["passages"]["all_clear"]
    parts = [_framing("all_clear_open"), *passages,
             _framing(close_key, number=info.number or "")]
    speech = guidance.speak([*parts, _framing("all_clear_offer")], info)
    return Reply(
        speech=speech,
        reprompt=ssml.escape(_framing("all_clear_reprompt")),
        card_title=_framing("all_clear_card_title"),
        card_text=" ".join(parts[1:]) + "\n\n" + prompts.text("card_footer"),
    )


def repeat(state: SessionState, locale: str | None = None) -> Reply:
    """The current question again, with its number ("Question 3 of 9: ...")."""
    question = current(state)
    if question is None:
        return restart(state, locale)
    step = validated(state.doctor)["step"]
    text = _framing("repeat", number=step + 1, count=len(questions()), question=question.text)
    return Reply(
        speech=ssml.escape(text),
        reprompt=ssml.escape(_framing("reprompt", question=question.text)),
        card_title=_framing("card_title"),
        card_text=text,
        screen=screen_for(state),
    )


def help(state: SessionState, locale: str | None = None) -> Reply:  # noqa: A001 - intent name
    """What to say mid-check, then the question again."""
    return _with_lead(state, locale, _framing("help"))


def not_understood(state: SessionState, locale: str | None = None) -> Reply:
    """Anything that is not yes/no/unsure mid-check: ask again, keep the place."""
    return _with_lead(state, locale, _framing("not_understood"))


def noted(state: SessionState, locale: str | None = None) -> Reply:
    """A described symptom with no red flag mid-check: thank them and carry on."""
    return _with_lead(state, locale, _framing("symptom_noted"))


def _with_lead(state: SessionState, locale: str | None, lead: str) -> Reply:
    question = current(state)
    if question is None:
        return restart(state, locale)
    text = f"{lead} {question.text}"
    return Reply(
        speech=ssml.escape(text),
        reprompt=ssml.escape(_framing("reprompt", question=question.text)),
        card_title=_framing("card_title"),
        card_text=question.text,
        screen=screen_for(state),
    )


def unsure_outside(state: SessionState, locale: str | None = None) -> Reply:
    """"I'm not sure" when nothing was asked: no harm done, say what the skill can do."""
    return Reply(
        speech=ssml.escape(_framing("unsure_outside")),
        reprompt=ssml.escape(_framing("unsure_outside_reprompt")),
    )
