"""The guided stretch routine: a small state machine a person can follow hands-free.

Why it is shaped like this:

- Every step is one response: a heading ("Step 3 of 6"), a short instruction of ours, the
  hold itself as real silence (`ssml.pause`, chained 10 s breaks), why it helps (a
  verbatim article sentence), then "say next when you're ready". One step per turn keeps
  each response well under Alexa's 90 s audio limit and lets the person go at their pace.
- The position lives in `SessionState.routine` (owned and validated here) as
  `{"v": 1, "variant": "seated", "step": <0-based index>, "paused": bool}`. Session
  attributes come back from the device, so anything unexpected restarts the routine
  politely instead of crashing or jumping to a step that does not exist.
- Pause and stop end the session. Alexa closes the microphone within seconds anyway, so an
  "open" pause would be a pretend one; instead the position is remembered (the Alexa layer
  writes `remember_position` into persistent memory) and "resume", or "yes" to the
  welcome-back offer, picks it up later.
- Discomfort ("ouch", "I feel dizzy") always ends the routine: the triage decides what
  to say, and the routine never carries on by itself after that.

All words are data (`stretches.json`); this module only sequences them.
"""

from __future__ import annotations

import functools
import re
import time
from typing import Any

from skill.content import spoken
from skill.datafiles import read_json
from skill.dialog import prompts as core_prompts
from skill.dialog import ssml
from skill.dialog.reply import Reply
from skill.dialog.state import SessionState

SLICE_VERSION = 1
PERSISTENT_KEY = "routine"
PENDING_RESUME = "resume_routine"
PENDING_START = "routine"  # "yes" now starts a stretch (after `nothing_under_way`)
SCREEN_DOCUMENT = "stretch_step"
WORDS_PER_SECOND = 2.5  # a deliberately slow speaking rate, so audio estimates err long

_BREAK = re.compile(r'<break\s+time="(\d+(?:\.\d+)?)(ms|s)"\s*/>')


# --------------------------------------------------------------------------- data


@functools.cache
def data() -> dict:
    """The routine as shipped (`stretches.json`), loaded once, on first use."""
    return read_json(__file__, "stretches.json")


def variants() -> tuple[str, ...]:
    return tuple(data()["variants"])


def default_variant() -> str:
    return data()["default_variant"]


def steps(variant: str) -> list[dict]:
    return data()["variants"][variant]["steps"]


def _prompt(key: str, **values: Any) -> str:
    template = data()["prompts"][key]
    return template.format(**values) if values else template


def _say(*parts: str) -> str:
    """Plain-text parts -> one SSML fragment (each part escaped)."""
    return " ".join(ssml.escape(p) for p in parts if p)


# --------------------------------------------------------------------------- state slice


def validate(raw: Any) -> dict | None:
    """A clean copy of a routine slice, or None when it is not one we could have written."""
    if not isinstance(raw, dict) or set(raw) - {"v", "variant", "step", "paused"}:
        return None
    if raw.get("v") != SLICE_VERSION or raw.get("variant") not in variants():
        return None
    step = raw.get("step")
    if not isinstance(step, int) or isinstance(step, bool):
        return None
    if not 0 <= step < len(steps(raw["variant"])):
        return None
    paused = raw.get("paused", False)
    if not isinstance(paused, bool):
        return None
    return {"v": SLICE_VERSION, "variant": raw["variant"], "step": step, "paused": paused}


def _set(state: SessionState, variant: str, step: int, paused: bool = False) -> dict:
    state.mode = "routine"
    state.pending = None
    state.routine = {"v": SLICE_VERSION, "variant": variant, "step": step, "paused": paused}
    return state.routine


def end(state: SessionState) -> None:
    """Leave the routine completely (finished, declined or stopped for discomfort).

    Public so that other features that take over mid-stretch (a red flag) can end it; the
    Alexa layer then forgets the saved position too (`remember_position`)."""
    state.mode = "idle"
    state.routine = None
    state.pending = None


def _current(state: SessionState) -> dict | None:
    """The validated slice while in the routine, else None."""
    if state.mode != "routine":
        return None
    slice_ = validate(state.routine)
    if slice_ is not None:
        state.routine = slice_
    return slice_


def _recover_variant(raw: Any) -> str:
    if isinstance(raw, dict) and raw.get("variant") in variants():
        return raw["variant"]
    return default_variant()


def normalize_variant(value: str | None) -> str | None:
    """A slot value (id, name or what was heard) -> a known variant id, or None."""
    if not value:
        return None
    text = spoken.fold(value).strip()
    if text in variants():
        return text
    for variant in variants():
        if variant in text:
            return variant
    if any(word in text for word in ("sit", "chair", "desk", "car", "plane", "seat")):
        return "seated"
    if any(word in text for word in ("stand", "upright", "on my feet")):
        return "standing"
    return None


# --------------------------------------------------------------------------- speech


def _hold(seconds: int) -> str:
    """Silence for a hold; long holds get a quiet "halfway" so the person is not left alone."""
    if seconds >= 14:
        first = seconds // 2
        return f"{ssml.pause(first)} {_say(_prompt('halfway'))} {ssml.pause(seconds - first)}"
    return ssml.pause(seconds)


def _count(count: int, seconds: int) -> str:
    words = data()["prompts"]["count_words"][:count]
    return ssml.pause(1) + " " + " ".join(
        f"{_say(word.capitalize() + '.')} {ssml.pause(seconds)}" for word in words)


def _timed(step: dict) -> str:
    timing = step["timing"]
    parts = []
    for cue in timing["cues"]:
        parts.append(_say(cue))
        if timing["kind"] == "hold":
            parts.append(_hold(timing["seconds"]))
        else:
            parts.append(_count(timing["count"], timing["seconds"]))
    parts.append(_say(_prompt("release")))
    return " ".join(parts)


def _step_reply(state: SessionState, lead_in: str = "") -> Reply:
    """Speak the current step, with its holds, and wait for "next"."""
    slice_ = state.routine
    variant, index = slice_["variant"], slice_["step"]
    all_steps = steps(variant)
    step, total = all_steps[index], len(all_steps)
    number = index + 1
    last = number == total
    invite = _prompt("say_next_last" if last else "say_next")
    speech = " ".join(p for p in (
        _say(lead_in) if lead_in else "",
        _say(_prompt("step_heading", number=number, total=total, name=step["name"]),
             step["instruction"]),
        _timed(step),
        _say(step.get("after", "")),
        _say(*step.get("why", ())),
        _say(invite),
    ) if p)
    title = data()["variants"][variant]["title"]
    card_text = "\n\n".join(p for p in (
        step["instruction"], step.get("after", ""), " ".join(step.get("why", ())),
        core_prompts.text("card_footer"),
    ) if p)
    return Reply(
        speech=speech,
        reprompt=_say(_prompt("step_reprompt")),
        card_title=f"{title}: step {number} of {total}, {step['name']}",
        card_text=card_text,
        screen=screen_for(variant, index),
    )


def screen_for(variant: str, index: int) -> dict:
    """What a device with a screen shows for a step (see `skill/alexa/apl.py`)."""
    all_steps = steps(variant)
    step, total = all_steps[index], len(all_steps)
    last = index + 1 == total
    return {
        "document": SCREEN_DOCUMENT,
        "data": {
            "title": data()["variants"][variant]["title"],
            "stepName": step["name"],
            "instruction": " ".join(p for p in (step["instruction"], step.get("after")) if p),
            "why": " ".join(step.get("why", ())),
            "stepNumber": index + 1,
            "totalSteps": total,
            "progressText": f"Step {index + 1} of {total}",
            "hint": _prompt("say_next_last" if last else "say_next"),
        },
    }


@functools.cache
def minutes(variant: str) -> int:
    """Roughly how long the routine takes, worked out from the steps themselves so the
    promise made at the start can never drift from the data."""
    seconds = 0.0
    for index in range(len(steps(variant))):
        state = SessionState()
        _set(state, variant, index)
        seconds += spoken_seconds(_step_reply(state).speech)
    return max(1, round(seconds / 60))


def _plain(key: str, reprompt_key: str = "step_reprompt", *, end_session: bool = False,
           **values: Any) -> Reply:
    speech = _say(_prompt(key, **values))
    if end_session:
        return Reply(speech=speech, end_session=True)
    return Reply(speech=speech, reprompt=_say(_prompt(reprompt_key, **values)))


def _numbers(slice_: dict) -> dict:
    variant = slice_["variant"]
    return {"number": slice_["step"] + 1, "total": len(steps(variant)),
            "name": data()["variants"][variant]["spoken_name"]}


# --------------------------------------------------------------------------- controls


def start(state: SessionState, variant: str | None = None, *,
          with_disclaimer: bool = False) -> Reply:
    """"Give me a stretch": step 1 of the asked-for variant (seated when none was asked)."""
    wanted = normalize_variant(variant)
    current = _current(state)
    if current is not None:
        if wanted is None or wanted == current["variant"]:
            return _step_reply(state, _prompt("already_on", **_numbers(current)))
        _set(state, wanted, 0)
        info = data()["variants"][wanted]
        return _step_reply(state, " ".join(
            (_prompt("switching", name=info["spoken_name"]), info["intro"])))
    chosen = wanted or default_variant()
    _set(state, chosen, 0)
    info = data()["variants"][chosen]
    lead_in = " ".join(p for p in (
        _prompt("disclaimer") if with_disclaimer else "",
        _prompt("start", name=info["spoken_name"], total=len(steps(chosen)),
                minutes=minutes(chosen)),
        info["intro"],
    ) if p)
    return _step_reply(state, lead_in)


def _restart(state: SessionState) -> Reply:
    """A tampered or stale slice: say so, and begin the routine again from step 1."""
    variant = _recover_variant(state.routine)
    _set(state, variant, 0)
    return _step_reply(state, _prompt("restarted"))


def _guarded(control):
    """Run a control only on a valid slice; otherwise restart politely.

    Callers write `routine.next_step(state)`; the wrapper validates `state.routine` once
    and hands the clean slice to the control as `current`."""
    @functools.wraps(control)
    def run(state: SessionState, *args, **kwargs) -> Reply:
        current = _current(state)
        if current is None:
            return _restart(state)
        return control(state, current, *args, **kwargs)
    return run


@_guarded
def next_step(state: SessionState, current: dict, lead_in: str = "") -> Reply:
    """Move on; after the last step, close the routine."""
    if current["step"] + 1 >= len(steps(current["variant"])):
        return finish(state, lead_in)
    _set(state, current["variant"], current["step"] + 1)
    return _step_reply(state, lead_in)


@_guarded
def skip(state: SessionState, current: dict) -> Reply:
    return next_step(state, _prompt("skipping"))


@_guarded
def previous_step(state: SessionState, current: dict) -> Reply:
    if current["step"] == 0:
        _set(state, current["variant"], 0)
        return _step_reply(state, _prompt("first_already"))
    _set(state, current["variant"], current["step"] - 1)
    return _step_reply(state)


@_guarded
def repeat(state: SessionState, current: dict) -> Reply:
    """The current step again, holds and all (not just the last sentence heard)."""
    _set(state, current["variant"], current["step"])
    return _step_reply(state)


@_guarded
def start_over(state: SessionState, current: dict) -> Reply:
    _set(state, current["variant"], 0)
    return _step_reply(state, _prompt("starting_over"))


@_guarded
def pause(state: SessionState, current: dict) -> Reply:
    """Remember the step and end the session: the person comes back with "resume"."""
    _set(state, current["variant"], current["step"], paused=True)
    reply = _plain("paused", end_session=True, **_numbers(current))
    return Reply(speech=reply.speech, end_session=True, card_title="Stretch paused",
                 card_text=ssml.to_plain_text(reply.speech))


@_guarded
def resume(state: SessionState, current: dict) -> Reply:
    """After a pause, the paused step again from its start; otherwise, simply the next one."""
    if current["paused"]:
        _set(state, current["variant"], current["step"])
        return _step_reply(state, _prompt("carry_on"))
    return next_step(state)


@_guarded
def steps_left(state: SessionState, current: dict) -> Reply:
    numbers = _numbers(current)
    left = numbers["total"] - numbers["number"]
    key = "steps_left_last" if left == 0 else "steps_left_one" if left == 1 else "steps_left_more"
    return _plain(key, "steps_left_reprompt", left=left, **numbers)


@_guarded
def stop(state: SessionState, current: dict) -> Reply:
    """Stop for now; the position stays in the slice so it can be remembered."""
    _set(state, current["variant"], current["step"], paused=True)
    state.mode = "idle"
    return _plain("stopped", end_session=True, **_numbers(current))


@_guarded
def help(state: SessionState, current: dict) -> Reply:  # noqa: A001 - the intent's name
    return _plain("help", "help_reprompt", **_numbers(current))


@_guarded
def fallback(state: SessionState, current: dict) -> Reply:
    return _plain("fallback")


@_guarded
def not_covered(state: SessionState, current: dict) -> Reply:
    """Mid-stretch, a question the article doesn't answer: say so, and how to carry on."""
    return _plain("not_covered")


@_guarded
def not_yet(state: SessionState, current: dict) -> Reply:
    """"No" to "say next when you're ready": no pressure, the routine waits."""
    return _plain("no_rush")


def finish(state: SessionState, lead_in: str = "") -> Reply:
    """The closing line and the article's passage on building movement into daily life."""
    end(state)
    closing = data()["closing"]
    speech = _say(lead_in, closing["line"], closing["article"], closing["goodbye"])
    return Reply(
        speech=speech,
        end_session=True,
        card_title="Stretch complete",
        card_text=f"{closing['article']}\n\n{core_prompts.text('card_footer')}",
    )


# --------------------------------------------------------------------------- discomfort


def is_no_concern(assessment: Any) -> bool:
    """True when the triage found nothing beyond ordinary discomfort (level "none")."""
    if assessment is None:
        return True
    level = getattr(assessment, "level", assessment)
    level = getattr(level, "value", level)
    if isinstance(level, str):
        return level.strip().lower() in ("", "none")
    return not level


def discomfort(state: SessionState, text: str | None, locale: str = "en-US", *,
               during_routine: bool | None = None) -> Reply:
    """"Ouch", "I feel dizzy": end the routine, and let the triage decide what to say.

    - none ("ouch", "that hurts"): a gentle line to stop and rest and the article's advice
      on when to seek care; the session stays open so the person can ask more.
    - anything else: the safety guidance for that level (`guidance.for_assessment`). An
      emergency or urgent answer starts with the action ("Call 911 now."), so nothing of
      ours goes before it; a routine-level answer is prefaced by "Let's stop the stretch
      here." so the person knows the routine is over.
    `during_routine` (default: whether the state is in the routine) picks the wording.
    The triage and guidance modules are imported here, not at module level: most requests
    never need them, and the Lambda cold start should not pay for them.
    """
    from skill.dialog import guidance, triage

    if during_routine is None:
        during_routine = state.mode == "routine"
    end(state)
    assessment = triage.assess(text or "")
    words = data()["discomfort"]
    if not is_no_concern(assessment):
        reply = guidance.for_assessment(state, assessment, locale)
        if during_routine and assessment.level == triage.ROUTINE:
            reply = Reply(speech=f"{_say(words['stop_preface'])} {reply.speech}",
                          reprompt=reply.reprompt, card_title=reply.card_title,
                          card_text=reply.card_text, end_session=reply.end_session)
        return reply
    return Reply(
        speech=_say(words["line" if during_routine else "line_idle"], *words["article"],
                    words["question"]),
        reprompt=_say(words["question"]),
        card_title="Stretch stopped" if during_routine else "Take it easy",
        card_text="\n\n".join([*words["article"], core_prompts.text("card_footer")]),
    )


# --------------------------------------------------------------------------- memory


def saved_position(persistent: Any, now: float | None = None,
                   max_age_hours: float | None = None) -> dict | None:
    """The remembered position ({variant, step, saved_at}), if valid (and recent enough)."""
    if not isinstance(persistent, dict):
        return None
    raw = persistent.get(PERSISTENT_KEY)
    if not isinstance(raw, dict):
        return None
    slice_ = validate({"v": raw.get("v"), "variant": raw.get("variant"), "step": raw.get("step")})
    saved_at = raw.get("saved_at")
    if slice_ is None or not isinstance(saved_at, (int, float)) or isinstance(saved_at, bool):
        return None
    if max_age_hours is not None:
        now = time.time() if now is None else now
        if not 0 <= now - saved_at <= max_age_hours * 3600:
            return None
    return {"v": SLICE_VERSION, "variant": slice_["variant"], "step": slice_["step"],
            "saved_at": int(saved_at)}


def remember_position(persistent: dict, state: SessionState, now: float | None = None) -> bool:
    """Copy the routine position into long-term memory (or clear it when the routine is
    over). Returns True when memory changed, so the caller writes only when needed."""
    slice_ = validate(state.routine)
    if slice_ is None:
        if PERSISTENT_KEY in persistent:
            del persistent[PERSISTENT_KEY]
            return True
        return False
    old = saved_position(persistent)
    if old and old["variant"] == slice_["variant"] and old["step"] == slice_["step"]:
        return False
    persistent[PERSISTENT_KEY] = {
        "v": SLICE_VERSION, "variant": slice_["variant"], "step": slice_["step"],
        "saved_at": int(time.time() if now is None else now),
    }
    return True


def resume_offer(state: SessionState, persistent: Any, now: float | None = None) -> Reply | None:
    """For the LaunchRequest of a returning user: "Want to finish your stretch from step 3
    of 6?" when a recent, unfinished routine is remembered (past step 1); else None.
    Sets `state.pending` so that "yes" resumes (`resume_saved`) and "no" declines
    (`decline_resume`)."""
    saved = saved_position(persistent, now, data()["resume_within_hours"])
    if saved is None or saved["step"] == 0:
        return None
    state.mode = "idle"
    state.routine = None
    state.pending = PENDING_RESUME
    numbers = _numbers(saved)
    return Reply(speech=_say(_prompt("resume_offer", **numbers)),
                 reprompt=_say(_prompt("resume_offer_reprompt", **numbers)),
                 card_title="Welcome back",
                 card_text=_prompt("resume_offer", **numbers))


def resume_saved(state: SessionState, persistent: Any) -> Reply:
    """"Yes" to the offer, or "resume" in a new session: carry on from the remembered step
    (however old). With nothing remembered, a fresh routine starts."""
    saved = saved_position(persistent)
    if saved is None:
        state.mode = "idle"
        state.routine = None
        reply = start(state)
        return Reply(speech=f"{_say(_prompt('nothing_to_resume'))} {reply.speech}",
                     reprompt=reply.reprompt, card_title=reply.card_title,
                     card_text=reply.card_text, screen=reply.screen)
    _set(state, saved["variant"], saved["step"])
    return _step_reply(state, _prompt("resuming", **_numbers(saved)))


def nothing_under_way(state: SessionState) -> Reply:
    """A stretch control ("next", "skip", "how many are left") with no stretch running and
    none remembered: say so, and offer one ("yes" starts it)."""
    end(state)
    state.pending = PENDING_START
    return _plain("nothing_under_way", "nothing_under_way_reprompt")


def decline_resume(state: SessionState) -> Reply:
    """"No" to the offer: forget the old position (the caller clears memory) and move on."""
    end(state)
    return _plain("resume_declined", "resume_declined_reprompt")


# --------------------------------------------------------------------------- checks


def spoken_seconds(speech: str) -> float:
    """A generous estimate of how long a response plays: its silences plus its words."""
    silence = 0.0
    for amount, unit in _BREAK.findall(speech):
        silence += float(amount) / (1000 if unit == "ms" else 1)
    words = len(ssml.to_plain_text(speech).split())
    return silence + words / WORDS_PER_SECOND
