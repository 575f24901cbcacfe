"""The one spoken-text normaliser, and the one topic phrase index both topic lookups use."""

import pytest

from skill.content import spoken
from skill.content.catalogue import catalogue, normalize_phrase
from skill.dialog import reinterpret, search


@pytest.mark.parametrize(("text", "folded"), [
    ("Don’t STOP", "don't stop"),
    ("‘Sciatica’", "'sciatica'"),
])
def test_fold_lowers_and_straightens_apostrophes(text, folded):
    assert spoken.fold(text) == folded


def test_tokens_keep_apostrophes_inside_words_and_break_on_the_rest():
    assert spoken.tokens("What’s M.S.,  and B12?") == ["what's", "m", "s", "and", "b12"]


@pytest.mark.parametrize(("text", "words"), [
    ("Didn’t it, then?", "didnt it then"),
    ("  foot-drop\tnow ", "foot drop now"),
    ("!!!", ""),
])
def test_words_drop_apostrophes_and_make_other_punctuation_spaces(text, words):
    assert spoken.words(text) == words


@pytest.mark.parametrize(("text", "joined"), [
    ("m s", "ms"),
    ("what is m s now", "what is ms now"),
    ("b 12", "b 12"),
    ("a", "a"),
])
def test_join_spelled_joins_runs_of_single_letters(text, joined):
    assert spoken.join_spelled(text) == joined


def test_the_other_normalisers_add_only_their_own_extra():
    assert reinterpret.normalise("Didn’t  Stop!") == spoken.words("Didn’t  Stop!") == "didnt stop"
    # The catalogue's extra: spelled letters joined and a leading article dropped.
    assert normalize_phrase("The M. S.") == "ms"
    assert normalize_phrase("the") == "the"
    assert search.query_words("Don’t 'stop'") == ["don't", "stop"]


def test_both_topic_lookups_read_one_phrase_index():
    cat = catalogue()
    for phrase, topic_ids in cat._phrases.items():
        # Every indexed phrase is found whole and found inside a sentence.
        assert cat.find_topic(phrase).id in topic_ids
        assert set(cat.mentioned_topics(f"so what about {phrase} then")) >= topic_ids


def test_mentions_overlap_and_respect_the_callers_filter():
    cat = catalogue()
    sciatica = cat.find_topic("sciatica").id
    assert sciatica in cat.mentioned_topics("is it sciatica or something else")
    assert cat.mentioned_topics("is it sciatica", counts=lambda phrase: False) == []
    # The ranker's filter: a phrase of generic words alone names no topic.
    generic = [p for p in cat._phrases if not search._names_a_topic(p)]
    assert generic, "expected some generic phrases in topics.json"
    # (any phrase inside it is made of those words too, so nothing at all is found)
    assert all(search.mentioned_topics(f"why {p} again") == [] for p in generic)
