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


@pytest.mark.parametrize("question,passage_id", [
    ("what does sciatica feel like", "sciatic_compression"),
    ("what are the symptoms of diabetic neuropathy", "high_blood_sugar"),
    ("how can someone with MS manage it", "ms_care"),
    ("can a nerve get pinched behind the knee", "where_impingement_happens"),
])
def test_a_question_naming_a_topic_gets_the_passage_that_answers_it(question, passage_id):
    """Not simply the topic's first passage."""
    assert search.best_passage(question).id == passage_id


@pytest.mark.parametrize("question,family", [
    ("does vitamin b twelve help my legs", "supplements"),
    ("can worry and anxiety make my legs tingly", "mental_health"),
    ("which tablets are best for numb legs", "medicines"),
    ("why do my hands keep going numb", "other_body_parts"),
])
def test_near_domain_questions_the_article_does_not_answer_name_their_family(question, family):
    ranking = search.rank(question)
    assert ranking.match is None and ranking.declined == f"not_covered:{family}"


@pytest.mark.parametrize("question", [
    "my leg goes all buzzy on the loo", "why does my leg feel like a block of wood",
    "my legs go dead after pilates", "my foot went to sleep in the cinema",
])
def test_peoples_own_words_reach_the_article(question):
    assert search.best_passage(question) is not None, question


@pytest.mark.parametrize("text", ["x" * 5000, "🦵" * 300, "\"OR\" NEAR(a b) * ^", "AND OR NOT"])
def test_hostile_queries_are_safe(text):
    search.best_passage(text)  # must not raise (FTS5 syntax is quoted away)
    assert search.query_terms(text) == search.query_terms(text)


def test_query_terms_drop_question_words_and_duplicates():
    assert search.query_terms("Why does my LEG, my leg, tingle?") == ["leg", "tingle"]
