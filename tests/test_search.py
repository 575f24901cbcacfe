"""Free-text questions reach the right part of the article; off-topic ones reach nothing."""

import pytest

from skill.content import is_verbatim_excerpt
from skill.dialog import search

ON_TOPIC = [
    ("what does sciatica feel like", "sciatic_nerve"),
    ("can diabetes cause it", "diabetes"),
    ("should I worry about my blood sugar", "diabetes"),
    ("why does sitting cross legged make my foot numb", "seating_posture"),
    ("what should I do at my desk", "prevention_seating"),
    ("what is the best chair", "prevention_seating"),
    ("does running cause it", "activity_rest"),
    ("can a slipped disc do this", "radiculopathy"),
    ("what does MS do to nerves", "multiple_sclerosis"),
    ("will stretching help", "prevention_movement"),
    ("what is paresthesia", "what_it_is"),
    ("what kind of doctor should I see", "specialist"),
    ("how do doctors test nerves", "examination"),
    ("what is the sciatic nerve", "sciatic_nerve"),
    ("can an old injury cause numbness", "injury"),
    ("what are the warning signs", "red_flags"),
    ("what are pins and needles", "sensations"),
    ("is it dangerous", "is_it_normal"),
    ("how does plaque in the arteries affect it", "blood_flow"),
    ("do tight muscles matter", "leg_muscles"),
]
OFF_TOPIC = [
    "what is the weather today", "who won the football game", "recipe for pancakes",
    "how to fix my car", "tell me a joke", "play music", "", "   ", "why does my leg fall asleep",
]


@pytest.mark.parametrize("question,topic", ON_TOPIC)
def test_questions_reach_their_topic(question, topic):
    passage = search.best_passage(question)
    assert passage is not None, question
    assert passage.topic == topic
    assert is_verbatim_excerpt(passage.text)


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_or_generic_questions_match_nothing(question):
    assert search.best_passage(question) is None


def test_ties_go_to_a_topics_introductory_passage():
    from skill.content.catalogue import catalogue

    passage = search.best_passage("tell me about diabetes")
    assert passage == catalogue().passages_for("diabetes")[0]


@pytest.mark.parametrize("text", ["x" * 5000, "🦵" * 300, "\"OR\" NEAR(a b) * ^", "AND OR NOT"])
def test_hostile_queries_are_safe(text):
    search.best_passage(text)  # must not raise (FTS5 syntax is quoted away)
    assert search.query_terms(text) == search.query_terms(text)


def test_query_terms_drop_question_words_and_duplicates():
    assert search.query_terms("Why does my LEG, my leg, tingle?") == ["leg", "tingle"]
