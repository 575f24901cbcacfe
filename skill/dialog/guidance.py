"""What to say when a red flag comes up: emergency, urgent, routine, or reassurance.

Why these shapes:
- emergency -- the first words are the action ("Call 911 now."), because a listener may
  stop listening after one sentence; then the article's reason, verbatim; then the
  session ends (nothing else should compete with the call) and a card repeats it.
- urgent -- get care today, and the locale's emergency number if it gets worse; the
  session ends too, for the same reason.
- routine -- an appointment is worth booking, the article's advice on which specialist,
  and an offer to run through the warning signs (the session stays open).
- none -- a short reassuring line from the article and the same offer: describing a
  symptom never meets silence or an error.

Framing is ours and short (guidance.json "framing"); every medical sentence is a verbatim
article excerpt (guidance.json "passages", checked by tests/test_guidance.py). Numbers
come from `locales`; an unknown locale hears "your local emergency number", never a guess.
"""

from __future__ import annotations

import functools
import re

from skill.datafiles import read_json
from skill.dialog import locales, prompts, ssml, triage
from skill.dialog.reply import Reply
from skill.dialog.state import SessionState

EMERGENCY, URGENT, ROUTINE, NONE = "emergency", "urgent", "routine", "none"
PENDING_CHECK = "doctor_check"


@functools.cache
def _data() -> dict:
    return read_json(__file__, "guidance.json")


def framing(key: str) -> str:
    return _data()["framing"][key]


def passage(key: str) -> str:
    """A verbatim article sentence by its guidance.json key."""
    return _data()["passages"][key]


def passages_for(flag: str | None, level: str) -> list[str]:
    """The article sentences that explain `flag` (or, without a known flag, `level`)."""
    data = _data()
    keys = data["flag_passages"].get(flag) if flag else None
    if not keys:
        keys = data["level_passages"][level]
    return [data["passages"][key] for key in keys]


# ------------------------------------------------------------------------ rendering


def _fill(template_key: str, info: locales.LocaleInfo, **extra: str) -> str:
    """A framing line for this locale; "_unknown" variants when we know no number."""
    key = template_key
    if not info.known and f"{template_key}_unknown" in _data()["framing"]:
        key = f"{template_key}_unknown"
    return framing(key).format(number=info.number or "", doctor=info.doctor, **extra)


def speak(plain_parts: list[str], info: locales.LocaleInfo) -> str:
    """Plain sentences -> SSML, with phone numbers said as people say them ("triple zero")."""
    text = ssml.escape(" ".join(p for p in plain_parts if p))
    for digits, spoken in ((info.number, info.number_spoken),
                           (info.advice_number, info.advice_number_spoken)):
        if digits and spoken:
            text = re.sub(rf"(?<!\d){re.escape(digits)}(?!\d)",
                          f'<sub alias="{spoken}">{digits}</sub>', text)
    return text


def _card(parts: list[str], footer: bool) -> str:
    text = " ".join(p for p in parts if p)
    return f"{text}\n\n{prompts.text('card_footer')}" if footer else text


def _screen(level: str, info: locales.LocaleInfo) -> dict:
    """A screen shows emergency and urgent guidance in large type, with the number."""
    return {"document": "guidance", "data": {
        "level": level, "number": info.number or "",
        "numberLabel": framing(f"{level}_screen_number_label")}}


# ------------------------------------------------------------------------ replies


def emergency(locale: str | None, flag: str | None = None) -> Reply:
    """"Call 911 now." first, then the article's reason; the session ends; the card repeats it."""
    info = locales.info(locale)
    parts = [_fill("emergency_open", info), *passages_for(flag, EMERGENCY),
             framing("emergency_close")]
    return Reply(
        speech=speak(parts, info),
        card_title=_fill("emergency_card_title", info),
        card_text=_card(parts, footer=False),
        end_session=True,
        screen=_screen(EMERGENCY, info),
    )


def urgent(locale: str | None, flag: str | None = None) -> Reply:
    """Care today (the locale's route), and the emergency number if it gets worse."""
    info = locales.info(locale)
    close = "urgent_close_help" if flag == "emergency_help" else "urgent_close"
    parts = [info.urgent_open, *passages_for(flag, URGENT), _fill(close, info)]
    return Reply(
        speech=speak(parts, info),
        card_title=framing("urgent_card_title"),
        card_text=_card(parts, footer=False),
        end_session=True,
        screen=_screen(URGENT, info),
    )


def routine(locale: str | None, flag: str | None = None, *, offer_check: bool = True) -> Reply:
    """Worth an appointment; which specialist; and an offer to check the warning signs.

    `offer_check=False` when the answer comes from inside the check itself, where offering
    the check again would be absurd: the user is asked what else they would like instead.
    """
    info = locales.info(locale)
    parts = [_fill("routine_open", info), *passages_for(flag, ROUTINE),
             _fill("routine_close", info)]
    offer, reprompt = (("offer_check", "offer_check_reprompt") if offer_check
                       else ("offer_more", "offer_more_reprompt"))
    return Reply(
        speech=speak([*parts, framing(offer)], info),
        reprompt=ssml.escape(framing(reprompt)),
        card_title=framing("routine_card_title"),
        card_text=_card(parts, footer=True),
    )


def reassurance(locale: str | None = None) -> Reply:
    """A described symptom with no red flag: the article's "often harmless", then the offer."""
    info = locales.info(locale)
    parts = [framing("none_open"), *passages_for(None, NONE)]
    return Reply(
        speech=speak([*parts, framing("offer_check")], info),
        reprompt=ssml.escape(framing("offer_check_reprompt")),
        card_title=framing("none_card_title"),
        card_text=_card(parts[1:], footer=True),
    )


def about_sign(locale: str | None, flag: str | None) -> Reply:
    """A question ABOUT a sign: the article's passage on it, one line of ours on what to do
    if it is happening now, and the conversation stays open."""
    info = locales.info(locale)
    level = EMERGENCY if flag is None else triage.flag_level(flag)
    parts = [passages_for(flag, level)[0], _fill("about_sign_close", info)]
    return Reply(
        speech=speak([*parts, framing("about_sign_offer")], info),
        reprompt=ssml.escape(framing("about_sign_offer")),
        card_title=framing("about_sign_card_title"),
        card_text=_card(parts, footer=True),
    )


def confirm_question(flag: str, locale: str | None, *, again: bool = False) -> Reply:
    """The one yes/no question about a sign the detector suspects (guidance.json)."""
    question = _data()["confirm_questions"][flag]
    if again:
        question = f"{framing('confirm_again')} {question}"
    return Reply(speech=ssml.escape(question),
                 reprompt=ssml.escape(f"{question} {framing('confirm_reprompt')}"))


def fallback_safety_net(locale: str | None) -> Reply:
    """AMAZON.FallbackIntent during a symptom conversation: no words reached us, and they
    may have been a warning sign, so the reply names the signs and the number first."""
    info = locales.info(locale)
    return Reply(speech=speak([_fill("fallback_safety_net", info)], info),
                 reprompt=ssml.escape(framing("fallback_safety_net_reprompt")))


def with_emergency_tail(reply: Reply, locale: str | None) -> Reply:
    """`reply` with one short line of ours: "If it's an emergency, call 911." """
    info = locales.info(locale)
    tail = speak([_fill("fallback_emergency_tail", info)], info)
    return Reply(speech=f"{reply.speech} {tail}", reprompt=reply.reprompt,
                 card_title=reply.card_title, card_text=reply.card_text,
                 end_session=reply.end_session, screen=reply.screen)


def reply_for(level: str, locale: str | None, flag: str | None = None) -> Reply:
    """The guidance for a triage level ("emergency", "urgent", "routine", "none")."""
    if level == EMERGENCY:
        return emergency(locale, flag)
    if level == URGENT:
        return urgent(locale, flag)
    if level == ROUTINE:
        return routine(locale, flag)
    return reassurance(locale)


def for_assessment(state: SessionState, assessment, locale: str | None) -> Reply:
    """Guidance for a triage `Assessment`, leaving the session state consistent with it.

    Emergency and urgent guidance ends the session, so every feature is closed (no
    half-finished check or stretch to come back to). Routine and none leave the menu idle
    with the warning-sign check on offer, so a bare "yes" starts it.
    """
    level = getattr(assessment, "level", NONE)
    flag = getattr(assessment, "primary", None)
    reply = reply_for(level, locale, flag)
    settle_state(state, reply)
    return reply


def settle_state(state: SessionState, reply: Reply) -> None:
    """After guidance: no feature left half-open; the check on offer if the session stays."""
    state.mode = "idle"
    state.doctor = None
    state.routine = None
    state.pending = None if reply.end_session else PENDING_CHECK
