"""The answer flow in plain Python: passage, follow-up question, reprompt, card."""

import pytest

from skill.content import is_verbatim_excerpt
from skill.content.catalogue import catalogue
from skill.dialog import answers, menu, prompts, ssml
from skill.dialog.state import SessionState

FRAMING = {prompts.text(k) for k in ("offer_more", "offer_causes", "what_next")}


def spoken(reply) -> str:
    return ssml.to_plain_text(reply.speech)


def test_flagship_says_what_happens_then_offers_the_causes():
    state = SessionState()
    reply = answers.explain_why(state)
    assert spoken(reply).startswith("In simple terms, leg numbness is an interruption of signals")
    assert spoken(reply).endswith(prompts.text("offer_causes"))
    assert state.pending == "topic:causes"
    more = answers.tell_more(state)
    assert spoken(more).startswith(catalogue().passages_for("causes")[0].text)


@pytest.mark.parametrize("topic_id", list(catalogue().topics))
def test_every_topic_answer_is_short_verbatim_and_well_formed(topic_id):
    state = SessionState()
    reply = answers.answer_topic(state, topic_id)
    card = reply.card_text.split("\n\n")[0]
    assert is_verbatim_excerpt(card) or all(
        is_verbatim_excerpt(p.text) for p in catalogue().passages_for(topic_id))
    assert reply.card_title == catalogue().passages_for(topic_id)[0].section
    assert reply.reprompt and not reply.end_session
    assert len(spoken(reply).split()) <= 55  # the passage (<= 45 words) plus a short question
    assert "not a substitute for professional medical advice" in reply.card_text.lower()


@pytest.mark.parametrize("topic_id", list(catalogue().topics))
def test_tell_me_more_walks_a_topic_then_offers_a_related_one(topic_id):
    state = SessionState()
    answers.answer_topic(state, topic_id)
    heard = []
    for _ in range(len(catalogue().passages_for(topic_id)) + 1):
        if not state.pending or state.pending.startswith("topic:"):
            break
        heard.append(spoken(answers.tell_more(state)))
    assert state.pending is None or state.pending.startswith("topic:")
    if state.pending:
        related = catalogue().topic(state.pending.split(":")[1])
        assert related.id in catalogue().topic(topic_id).related


def test_topic_slot_prefers_entity_resolution_then_synonyms_then_ranking():
    state = SessionState()
    assert state.topic is None
    answers.answer_spoken_topic(state, "diabetes", "whatever was heard")
    assert state.topic == "diabetes"
    answers.answer_spoken_topic(state, None, "bad circulation")
    assert state.topic == "circulatory_disorders"
    answers.answer_spoken_topic(state, None, "how sciatica feels")
    assert state.topic == "sciatic_nerve"
    answers.answer_spoken_topic(state, "not_a_topic", None)
    assert state.pending is None


def test_unknown_question_says_so_and_offers_what_it_can_do():
    state = SessionState()
    reply = answers.answer_question(state, "who won the football game")
    assert "not sure the article covers that" in spoken(reply)
    assert "stretch" in spoken(reply) and reply.reprompt


@pytest.mark.parametrize("question", [
    "why do my legs fall asleep", "why do my feet go numb when I sit",
    "why does my leg tingle when I sit too long", "how come my legs go to sleep",
    "why does sitting make my leg go dead",
])
def test_the_flagship_question_in_other_words_gets_the_flagship(question):
    state = SessionState()
    answers.answer_question(state, question)
    assert state.topic == "why_it_happens"


def test_repeat_says_the_last_thing_again():
    state = SessionState()
    first = answers.answer_topic(state, "diabetes")
    state.remember_reply(first.speech, first.reprompt, first.card_title, first.card_text)
    again = menu.repeat(state)
    assert again.speech == first.speech and again.card_title == first.card_title


def test_state_round_trips_and_rejects_tampering():
    state = SessionState()
    answers.answer_topic(state, "diabetes")
    restored = SessionState.from_attributes({"pins_and_needles": state.to_attributes()})
    assert restored == state and not restored.was_reset
    for bad in ({"v": 2}, {"v": 1, "mode": "dancing"}, {"v": 1, "passage_index": "3"},
                {"v": 1, "routine": [1]}, "text"):
        assert SessionState.from_attributes({"pins_and_needles": bad}).was_reset
