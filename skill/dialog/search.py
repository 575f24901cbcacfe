"""Rank the article's passages against a free-text question, with SQLite FTS5's BM25.

Why FTS5: it ships inside Python's own `sqlite3`, brings a maintained BM25 ranker and the
Porter stemmer ("tingles" finds "tingling"), and costs no import time or memory on the
Lambda cold-start path, where numpy-based rankers would add ~50 ms and ~13 MB. The index
is built lazily, on the first free-text question, in an in-memory database (a few ms).

Why a question bank: people rarely use the article's words ("buzzy", "dead leg", "on the
loo", "after pilates"). Each passage is indexed together with 10-20 questions it answers
(`skill/content/questions.json`, ours and never spoken), the way FAQ search is made robust
to wording. The bank also lists near-domain questions the article does *not* answer
(supplements, medicines to take, other body parts...): when one of those fits a question
best, or the passage found covers too little of what was asked, the skill says so instead
of reading out a passage that merely shares a word.

Choosing within a topic: when the question names a topic ("sciatica", "my chair"), only
that topic's passages compete, and the one that answers the question wins — not simply
the topic's first passage.
"""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass

from skill.content import spoken
from skill.content.catalogue import Passage, catalogue, question_bank

# Words that carry no topic: question scaffolding and small talk.
STOPWORDS = frozenset(
    """a about after again all also am an and any anything are as at be because been before
    being but by can could did do does doing don't for from get gets getting go goes going
    got had has have having he her hers him his how i i'm if in into is it it's its just know
    let me more most my myself no nor not of off on once only or other our out over own
    please really same she should so some something such tell than that the their them then
    there these they this those to too under up very want was we were what when where which
    while who whom why will with would you your yours question wondering wonder explain mean
    means thing things lot lots alexa ok okay cause causes caused happen happens
    happening make makes making like play long come
    exactly actually honestly basically literally really truly quite just simply anyway
    quick quickly version bit little reckon dear mate love guys folks hey hi hello um uh
    yeah yes sorry thanks thank""".split()
)
# Words of the flagship question itself ("why do my feet go dead when I sit?"): they match
# everywhere, so they never decide a ranking on their own, and a question made only of
# them is the flagship question.
GENERIC = frozenset("""leg legs foot feet numb numbness asleep fall falls falling fell
    sit sits sitting sat sleep sleeping slept dead tingle tingles tingling tingly""".split())

MAX_QUERY_CHARS = 500
# BM25 weights of the columns: the passage's own words, the questions it answers, and its
# topic's name and synonyms.
WEIGHTS = (1.0, 1.0, 0.5)
# Weight of the single closest question in the bank, added to the document's score.
QUESTION_WEIGHT = 1.0
# How much of a question (by inverse document frequency, so rare words count most) the
# chosen passage must cover. Below it the article probably doesn't answer the question.
# Calibrated on the tuning half of the blind set (tools/answers_report.py).
MIN_COVERAGE = 0.1
# A question with no word of the domain (no leg, foot, numb..., no topic named) must match
# on more than one word and cover at least half of itself: "tell me about football" and
# "what time is it" share a word with the article by chance.
MIN_OFF_TOPIC_COVERAGE = 0.5
MIN_OFF_TOPIC_WORDS = 2
# A passage of a topic the question names must score at least this share of the best
# passage's score to be preferred to it: only a near tie goes to the topic named. Now that
# every passage has bank questions, the ranker's own choice is the better guide; a wider
# margin let everyday topic words ("desk", "accident", "pinched nerve") pull questions away
# from the passage that answers them (set A: 0.7 -> 0.9, best 97 -> 101, section 115 -> 117).
TOPIC_MARGIN = 0.9


@dataclass(frozen=True)
class Match:
    """The passage that answers best, with how well: `coverage` is the IDF-weighted share
    of the question's words that the passage (with its questions and topic words) holds."""

    passage: Passage
    score: float
    coverage: float


@dataclass(frozen=True)
class Ranking:
    """A question's outcome: a match, or why there is none (`declined` names the reason:
    "not_covered:<family>" when the question is one the article doesn't answer, "weak"
    when nothing covers enough of it, "empty" when it has no searchable words)."""

    match: Match | None
    declined: str | None = None


def query_words(text: str) -> list[str]:
    """Every word of `text` (`spoken.tokens`, at most MAX_QUERY_CHARS), as the ranker reads it."""
    return [w.strip("'") for w in spoken.tokens(text[:MAX_QUERY_CHARS]) if w.strip("'")]


def query_terms(text: str) -> list[str]:
    """The words of `text` worth searching for, lowercased, in order, without duplicates."""
    return list(dict.fromkeys(w for w in query_words(text) if w not in STOPWORDS))


def mentioned_topics(text: str) -> list[str]:
    """Ids of the topics whose name or a synonym appears in `text` as whole words.

    Phrases made only of generic or question words ("why", "numb") don't count.
    """
    return catalogue().mentioned_topics(text, counts=_names_a_topic)


def _names_a_topic(phrase: str) -> bool:
    return any(w not in GENERIC for w in query_terms(phrase))


class ArticleIndex:
    """In-memory FTS5 table: one row per passage (text, questions, topic words), then one
    row per family of questions the article doesn't cover."""

    def __init__(self) -> None:
        import sqlite3  # here, not at the top: only a free-text question pays for it

        cat = catalogue()
        bank = question_bank()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        self._db.execute("CREATE VIRTUAL TABLE docs USING "
                         "fts5(body, questions, keywords, tokenize='porter unicode61')")
        self._passages = list(cat.passages)
        self._families = list(bank.not_covered)
        rows = [(row, p.text, " | ".join(bank.questions[p.id]),
                 " ".join([cat.topics[p.topic].name, *cat.topics[p.topic].synonyms]))
                for row, p in enumerate(self._passages)]
        rows += [(len(self._passages) + i, "", " | ".join(bank.not_covered[family]), "")
                 for i, family in enumerate(self._families)]
        self._db.executemany("INSERT INTO docs(rowid, body, questions, keywords) "
                             "VALUES (?, ?, ?, ?)", rows)
        # And each question on its own, so that one close question counts in full (a
        # question among fifteen in one column is diluted by the other fourteen).
        self._db.execute("CREATE VIRTUAL TABLE questions USING "
                         "fts5(body, tokenize='porter unicode61')")
        self._question_doc: list[int] = []
        for row, _, joined, _ in rows:
            for question in joined.split(" | "):
                self._question_doc.append(row)
                self._db.execute("INSERT INTO questions(rowid, body) VALUES (?, ?)",
                                 (len(self._question_doc) - 1, question))
        self._documents = len(rows)
        self._topics = list(cat.topics.values())
        self._topic_rows = {
            t.id: [i for i, p in enumerate(self._passages) if p.topic == t.id]
            for t in self._topics
        }

    @functools.lru_cache(maxsize=4096)
    def _rows_with(self, term: str) -> frozenset[int]:
        """The rows holding `term` (stemmed by FTS5), cached: words repeat across questions."""
        with self._lock:
            return frozenset(r for (r,) in self._db.execute(
                "SELECT rowid FROM docs WHERE docs MATCH ?", ('"' + term.replace('"', "") + '"',)))

    def _coverage(self, terms: list[str], row: int) -> tuple[float, int]:
        """IDF-weighted share of `terms` found in `row` (a word found nowhere weighs most),
        and how many of them were found."""
        total = found = 0.0
        count = 0
        for term in terms:
            rows = self._rows_with(term)
            weight = math.log((self._documents + 1) / (len(rows) + 0.5))
            if term in GENERIC:
                weight *= 0.25
            total += weight
            if row in rows:
                found += weight
                count += 1
        return (found / total if total else 0.0), count

    def rank(self, text: str) -> Ranking:
        terms = query_terms(text)
        if not any(t not in GENERIC for t in terms):
            return Ranking(None, "empty")
        expression = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
        mentioned = mentioned_topics(text[:MAX_QUERY_CHARS])
        with self._lock:
            scores = dict(self._db.execute(
                "SELECT rowid, bm25(docs, ?, ?, ?) AS score FROM docs WHERE docs MATCH ? "
                "ORDER BY score LIMIT 60", (*WEIGHTS, expression)).fetchall())
            nearest = self._db.execute(
                "SELECT rowid, bm25(questions) AS score FROM questions WHERE questions MATCH ? "
                "ORDER BY score LIMIT 200", (expression,)).fetchall()
        closest: dict[int, float] = {}
        for question_row, score in nearest:
            row = self._question_doc[question_row]
            closest[row] = min(closest.get(row, 0.0), score)
        # Lower is better: the document's BM25 plus its closest question's.
        ranked = sorted(
            ((row, scores.get(row, 0.0) + QUESTION_WEIGHT * closest.get(row, 0.0))
             for row in scores.keys() | closest.keys()),
            key=lambda item: (item[1], item[0]))
        if not ranked:
            return Ranking(None, "weak")
        top_row, top_score = ranked[0]
        if top_row >= len(self._passages):
            return Ranking(None, "not_covered:" + self._families[top_row - len(self._passages)])
        allowed = {r for t in mentioned for r in self._topic_rows[t]}
        if allowed and top_row not in allowed:
            # A named topic's best passage wins unless another passage fits far better.
            inside = [(r, s) for r, s in ranked if r in allowed and s <= top_score * TOPIC_MARGIN]
            if inside:
                top_row, top_score = inside[0]
        coverage, found = self._coverage(terms, top_row)
        on_topic = bool(mentioned) or any(t in GENERIC for t in terms)
        if coverage < MIN_COVERAGE or (not on_topic and (
                coverage < MIN_OFF_TOPIC_COVERAGE or found < MIN_OFF_TOPIC_WORDS)):
            return Ranking(None, "weak")
        return Ranking(Match(self._passages[top_row], top_score, coverage))


@functools.cache
def index() -> ArticleIndex:
    return ArticleIndex()


def rank(text: str) -> Ranking:
    """The passage that best answers `text`, or why the article has none."""
    return index().rank(text)


def best_passage(text: str) -> Passage | None:
    """The passage that best answers `text`, or None when nothing matches well enough."""
    match = index().rank(text).match
    return match.passage if match else None
