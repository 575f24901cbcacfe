"""What a request's words mean for safety: guidance, an answer about a sign, or a question.

Why a module between triage and the handlers: two kinds of evidence meet here.
- Rules that act (`triage.assess`): a clear statement of a warning sign gets guidance at
  once; a question *about* a sign ("is slurred speech a sign of something serious?") gets
  the article's passage about it and one line of ours, and the conversation goes on.
  Unclear whether it is a question or a statement: it is a statement.
- A detector that suspects (`skill.dialog.suspicion.suspect`, statistical, optional):
  when the rules found nothing but it suspects a sign, the skill asks ONE short yes/no
  question about that sign. Yes or not sure -> that sign's guidance; no -> the answer the
  request would have had. Never more than one such question per session, and none when
  the rules already matched.

Plain Python (no ask_sdk): the handlers in skill/alexa/safety_handlers.py are thin.
"""

from __future__ import annotations

import functools

from skill.dialog import triage

EMERGENCY, URGENT, ROUTINE, NONE = "emergency", "urgent", "routine", "none"
ANSWER, CONFIRM = "answer", "confirm"
# Intents whose words may carry a sign the rules missed, and whose normal answer
# `carry_on` can give after a "no": the free-text symptom intents and questions.
CONFIRMABLE_INTENTS = (*triage.SYMPTOM_INTENTS, *triage.QUESTION_INTENTS)
# The signs a confirming question can be about (ids from red_flags.json).
CONFIRMABLE_FLAGS = ("face_drooping", "speech", "confusion", "bladder_bowel", "mobility",
                     "severe_pain", "continuous_numbness")
PENDING_PREFIX = "confirm:"


class Decision:
    """action: emergency | urgent | routine | answer | confirm | none; flag: the sign."""

    __slots__ = ("action", "flag", "assessment")

    def __init__(self, action: str, flag: str | None = None, assessment=None):
        self.action, self.flag, self.assessment = action, flag, assessment

    def __repr__(self):
        return f"Decision({self.action!r}, {self.flag!r})"

    @property
    def preempts(self) -> bool:
        """The safety handler answers this request (not the intent's own handler)."""
        return self.action != NONE


def decide(texts, intent: str | None, *, catalogue_topic: bool = False,
           may_confirm: bool = True) -> Decision:
    """The safety decision for a request's slot `texts` in `intent`.

    `may_confirm=False` once this session has had its one confirming question (or when the
    conversation is inside a feature that owns the turn)."""
    texts = [t for t in texts if isinstance(t, str) and t.strip()]
    if not texts:
        return Decision(NONE)
    assessment = triage.assess_all(texts, question=triage.question_hint(intent))
    level = triage.preempting_level(assessment, intent, catalogue_topic=catalogue_topic)
    if level in (EMERGENCY, URGENT):
        if intent not in triage.SYMPTOM_INTENTS and \
                any(triage.asks_about_sign(
                    t, question_intent=intent in triage.QUESTION_INTENTS) for t in texts):
            return Decision(ANSWER, assessment.primary, assessment)
        return Decision(level, assessment.primary, assessment)
    if level == ROUTINE:
        return Decision(ROUTINE, assessment.primary, assessment)
    if may_confirm and (intent in CONFIRMABLE_INTENTS or intent is None):
        for text in texts:
            if _explained(text, intent):
                continue
            suspicion = suspect(text)
            if suspicion is not None and suspicion.flag in CONFIRMABLE_FLAGS \
                    and suspicion.flag not in assessment.negated:
                return Decision(CONFIRM, suspicion.flag, assessment)
    return Decision(NONE, None, assessment)


def _explained(text: str, intent: str | None) -> bool:
    """The rules already know what these words are, so the detector must not ask: a
    question about a sign in general ("can numbness be a sign of something bad?") or an
    idiom ("I don't know whether I'm coming or going"), or a warning word a trap explained
    away (a pet, a face on the telly, a baby: `Assessment.excused`)."""
    return triage.asks_about_sign(text, question_intent=intent in triage.QUESTION_INTENTS) \
        or triage.figure_of_speech(text) \
        or bool(triage.assess(text, question=triage.question_hint(intent)).excused)


# ---------------------------------------------------------------- the detector

_detector = None   # tests install a stand-in with `use_detector`


def use_detector(detector) -> None:
    """Install `detector(text) -> Suspicion | None` (tests); None: the real one again."""
    global _detector
    _detector = detector


@functools.cache
def _real_detector():
    """skill.dialog.suspicion.suspect, imported on the first free-text request (it loads a
    model); None when the module is absent or fails to load: the rules still act."""
    try:
        from skill.dialog import suspicion
    except Exception:  # noqa: BLE001 -- no detector must never mean no answer
        return None
    return suspicion.suspect


def suspect(text: str):
    detector = _detector or _real_detector()
    if detector is None:
        return None
    try:
        return detector(text)
    except Exception:  # noqa: BLE001 -- a failing detector is a silent one
        return None


# ---------------------------------------------------------------- the confirming question

def pending_flag(state) -> str | None:
    """The sign a confirming question is waiting on, or None."""
    pending = state.pending or ""
    if pending.startswith(PENDING_PREFIX):
        flag = pending[len(PENDING_PREFIX):]
        return flag if flag in CONFIRMABLE_FLAGS else None
    return None


def already_asked(state) -> bool:
    return bool((state.safety or {}).get("asked"))


def ask(state, flag: str, intent: str | None, texts, locale: str | None):
    """Ask the one confirming question; remember what to answer after a "no"."""
    from skill.dialog import guidance

    reply = guidance.confirm_question(flag, locale)
    state.mode = "idle"
    state.pending = PENDING_PREFIX + flag
    state.safety = {"asked": True, "intent": intent or "", "text": " ".join(texts)[:500]}
    return reply


def answer(state, reply_word: str, locale: str | None):
    """The user's yes / no / not sure to the confirming question -> the reply."""
    from skill.dialog import guidance

    flag = pending_flag(state)
    state.pending = None
    if reply_word in ("yes", "unsure") and flag:
        level = triage.flag_level(flag)
        reply = guidance.reply_for(level, locale, flag)
        guidance.settle_state(state, reply)
        return reply
    return carry_on(state, locale)


def carry_on(state, locale: str | None):
    """"No": the answer the original request would have had without the question."""
    from skill.dialog import answers, guidance

    saved = state.safety or {}
    intent, text = saved.get("intent"), saved.get("text") or ""
    if intent in triage.QUESTION_INTENTS:
        return answers.answer_question(state, text)
    reply = guidance.reassurance(locale)
    guidance.settle_state(state, reply)
    return reply


def in_symptom_conversation(state) -> bool:
    """Is the user telling us about symptoms? (A fallback then may have been a warning sign
    the model could not place: `guidance.fallback_safety_net`.) True with a confirming
    question waiting, after symptom guidance (the warning-sign check is on offer), or once a
    confirming question was asked this session. Inside the check itself its own "not an
    answer" reply asks the question about the sign again, so that stays."""
    if state.mode in ("doctor_check", "routine"):
        return False
    return pending_flag(state) is not None or state.pending == "doctor_check" or \
        state.safety is not None


def fallback(state, locale: str | None):
    """AMAZON.FallbackIntent (no words reached us; they may have been a warning sign).

    A waiting confirming question is asked again (it still wants its yes or no); in a
    symptom conversation the signs and the number come first; mid-stretch the routine's
    line (the words it knows) and elsewhere the ordinary fallback end with "If it's an
    emergency, call <number>." (README: the figures behind this choice; mid-stretch a sign
    can open with a control word: "wait, I can't move my leg")."""
    from skill.dialog import guidance, menu

    flag = pending_flag(state)
    if flag:
        return guidance.confirm_question(flag, locale, again=True)
    if state.mode == "routine":
        from skill.dialog import routine

        return guidance.with_emergency_tail(routine.fallback(state), locale)
    if in_symptom_conversation(state):
        return guidance.fallback_safety_net(locale)
    return guidance.with_emergency_tail(menu.fallback(state), locale)


def forget_unanswered(state) -> None:
    """Something other than yes/no/not sure came instead: the question lapses."""
    if pending_flag(state):
        state.pending = None
