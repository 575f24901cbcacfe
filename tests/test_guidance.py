"""Guidance: the right number per locale, the action first, article words verbatim."""

import json
import re
from pathlib import Path

import pytest

from skill.content import is_verbatim_excerpt
from skill.dialog import guidance, locales, ssml, triage
from skill.dialog.state import SessionState

ROOT = Path(__file__).resolve().parents[1]
DATA = json.loads((ROOT / "skill/dialog/guidance.json").read_text("utf-8"))

NUMBERS = {"en-US": "911", "en-CA": "911", "en-GB": "999", "en-AU": "000", "en-IN": "112"}
SPOKEN = {"911": "nine one one", "999": "nine nine nine", "000": "triple zero",
          "112": "one one two"}
ALL_EMERGENCY_NUMBERS = set(NUMBERS.values())


def plain(reply) -> str:
    return ssml.to_plain_text(reply.speech)


def flags_of(level):
    return [f for f in triage.flag_ids() if triage.flag_level(f) == level]


# ---------------------------------------------------------------- locales

@pytest.mark.parametrize("locale, number", sorted(NUMBERS.items()))
def test_emergency_number_per_locale(locale, number):
    assert locales.emergency_number(locale) == number


@pytest.mark.parametrize("locale, number", [("es-US", "911"), ("fr-CA", "911"),
                                            ("en_GB", "999"), ("en-UK", "999")])
def test_the_country_decides_the_number_not_the_language(locale, number):
    assert locales.emergency_number(locale) == number


@pytest.mark.parametrize("locale", [None, "", "en", "de-DE", "ja-JP", "xx", 42, ["en-US"],
                                    "en-NZ", "en-", "-US-", "en-U5"])
def test_unknown_locale_gets_no_guessed_number(locale):
    info = locales.info(locale)
    assert info.number is None and not info.known
    reply = guidance.emergency(locale)
    assert plain(reply).startswith("Call your local emergency number now.")
    assert not any(n in plain(reply) for n in ALL_EMERGENCY_NUMBERS)


def test_supported_locales_are_the_five_english_ones():
    assert set(locales.supported()) == set(NUMBERS)


# ---------------------------------------------------------------- emergency

@pytest.mark.parametrize("locale", sorted(NUMBERS))
@pytest.mark.parametrize("flag", flags_of("emergency"))
def test_emergency_starts_with_the_call_and_ends_the_session(locale, flag):
    number = NUMBERS[locale]
    reply = guidance.emergency(locale, flag)
    assert plain(reply).startswith(f"Call {number} now.")
    assert f'<sub alias="{SPOKEN[number]}">{number}</sub>' in reply.speech
    assert reply.end_session is True
    assert reply.card_title == f"Call {number} now"
    assert reply.card_text.startswith(f"Call {number} now.")
    # the card says the same as the speech
    assert ssml.to_plain_text(reply.speech).replace(" ", "") == reply.card_text.replace(" ", "")
    others = ALL_EMERGENCY_NUMBERS - {number}
    assert not any(re.search(rf"\b{n}\b", plain(reply)) for n in others)


def test_emergency_quotes_the_red_flag_passage():
    face = plain(guidance.emergency("en-US", "face_drooping"))
    assert "facial drooping" in face and "should not be ignored" in face
    bladder = plain(guidance.emergency("en-US", "bladder_bowel"))
    assert "bladder or bowel control" in bladder


# ---------------------------------------------------------------- urgent

@pytest.mark.parametrize("locale", sorted(NUMBERS))
@pytest.mark.parametrize("flag", flags_of("urgent"))
def test_urgent_means_care_today_and_the_number_if_worse(locale, flag):
    reply = guidance.urgent(locale, flag)
    text = plain(reply)
    assert "today" in text.split(".")[0]
    assert NUMBERS[locale] in text
    assert "worse" in text or "emergency" in text
    assert reply.end_session is True
    assert not text.startswith("Call")  # urgent is not an emergency call


def test_uk_urgent_points_to_nhs_111_and_999():
    text = plain(guidance.urgent("en-GB", "mobility"))
    assert "NHS 111" in text and "999" in text
    assert '<sub alias="one one one">111</sub>' in guidance.urgent("en-GB").speech
    assert "911" not in text


def test_urgent_care_wording_differs_by_country():
    assert "urgent care" in plain(guidance.urgent("en-US"))
    assert "GP" in plain(guidance.urgent("en-AU"))
    assert "walk-in clinic" in plain(guidance.urgent("en-CA"))


# ---------------------------------------------------------------- routine and none

@pytest.mark.parametrize("flag", flags_of("routine"))
def test_routine_suggests_an_appointment_and_a_specialist(flag):
    reply = guidance.routine("en-US", flag)
    text = plain(reply)
    assert text.startswith("It's worth booking an appointment with your doctor.")
    assert "neurologist or a vascular specialist" in text
    assert reply.end_session is False and reply.reprompt
    assert "warning signs" in text  # the offer


def test_routine_from_inside_the_check_does_not_offer_the_check_again():
    reply = guidance.routine("en-GB", "condition", offer_check=False)
    assert "your GP" in plain(reply)
    assert "check for warning signs" not in plain(reply)
    assert reply.reprompt


def test_reassurance_is_short_kind_and_offers_the_check():
    reply = guidance.reassurance("en-US")
    text = plain(reply)
    assert "often harmless" in text
    assert text.endswith("?")
    assert reply.end_session is False and reply.reprompt
    assert len(text.split()) < 45


@pytest.mark.parametrize("level", ["emergency", "urgent", "routine", "none", "bogus"])
def test_reply_for_every_level_is_valid(level):
    reply = guidance.reply_for(level, "en-IN")
    assert reply.speech and (reply.end_session or reply.reprompt)


def test_for_assessment_settles_the_state():
    state = SessionState(mode="routine", routine={"v": 1}, doctor={"v": 1}, pending="more")
    reply = guidance.for_assessment(state, triage.assess("I wet myself"), "en-AU")
    assert plain(reply).startswith("Call 000 now.")
    assert (state.mode, state.routine, state.doctor, state.pending) == ("idle", None, None, None)
    state = SessionState()
    guidance.for_assessment(state, triage.assess("I have diabetes"), "en-US")
    assert state.pending == guidance.PENDING_CHECK


# ---------------------------------------------------------------- content rules

def test_every_passage_is_a_verbatim_article_excerpt():
    for key, text in DATA["passages"].items():
        assert is_verbatim_excerpt(text), key


def test_every_flag_has_passages_that_exist():
    mapping = {k: v for k, v in DATA["flag_passages"].items() if not k.startswith("_")}
    assert set(mapping) == set(triage.flag_ids())
    for flag, keys in mapping.items():
        assert keys and all(k in DATA["passages"] for k in keys), flag


def test_framing_is_ours_short_and_never_claims_too_much():
    banned = ("save your life", "saves lives", "save lives", "i will call", "i'll call",
              "calling 911", "i can call", "diagnos", "you have a", "you are having",
              "you're having", "nothing to worry", "you're fine", "you are fine")
    for key, text in DATA["framing"].items():
        assert len(text.split()) <= 25, key
        assert not any(b in text.lower() for b in banned), key
        assert not is_verbatim_excerpt(text) or len(text.split()) < 4, key


@pytest.mark.parametrize("locale", sorted(NUMBERS) + ["xx-XX"])
@pytest.mark.parametrize("level", ["emergency", "urgent", "routine", "none"])
def test_every_medical_sentence_spoken_is_from_the_article(locale, level):
    flags = flags_of(level) or [None]
    framing = {t.format(number=locales.info(locale).number or "",
                        doctor=locales.info(locale).doctor) for t in DATA["framing"].values()}
    framing.add(locales.info(locale).urgent_open)
    for flag in flags:
        text = plain(guidance.reply_for(level, locale, flag))
        sentences = _sentences(text)
        for sentence in sentences:
            assert is_verbatim_excerpt(sentence) or any(sentence in f for f in framing), \
                (level, flag, sentence)


def _sentences(text: str) -> list[str]:
    # to_plain_text leaves a space before punctuation that followed a tag ("111 ,")
    text = re.sub(r" ([,.?])", r"\1", text)
    return [s.strip() for s in re.split(r"(?<=[.?])\s+", text) if s.strip()]


def test_the_check_fails_when_a_passage_is_edited(monkeypatch):
    edited = dict(DATA["passages"], bladder="Bladder trouble is always an emergency.")
    monkeypatch.setitem(guidance._data(), "passages", edited)
    text = plain(guidance.emergency("en-US", "bladder_bowel"))
    assert not all(is_verbatim_excerpt(s) or s.startswith(("Call", "Please"))
                   for s in _sentences(text))
