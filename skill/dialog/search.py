"""Rank the article against a free-text question, with SQLite FTS5's BM25.

Why FTS5: it ships inside Python's own `sqlite3`, brings a maintained BM25 ranker and the
Porter stemmer ("tingles" finds "tingling"), and costs no import time or memory on the
Lambda cold-start path, where numpy-based rankers would add ~50 ms and ~13 MB. The index
is built lazily, on the first free-text question, in an in-memory database (~2 ms).

Ranking is two-step, because questions name a *topic* far more often than they quote a
sentence: first the topic, scored over the words people use for it (its name and slot
synonyms, weighted high) and the text of all its passages; then, inside that topic, the
passage whose own words match best, ties going to the topic's earlier (introductory)
passage. When the question names topics outright ("sciatica", "my chair"), only those
compete, so "what does sciatica feel like" reaches the sciatic nerve although the article
never says "sciatica" and talks about feelings elsewhere.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass

from skill.content.catalogue import Passage, catalogue

# Words that carry no topic: question scaffolding and small talk.
STOPWORDS = frozenset(
    """a about after again all also am an and any anything are as at be because been before
    being but by can could did do does doing don't for from get gets getting go goes going
    got had has have having he her hers him his how i i'm if in into is it it's its just know
    let me more most my myself no nor not of off on once only or other our out over own
    please really same she should so some something such tell than that the their them then
    there these they this those to too under up very want was we were what when where which
    while who whom why will with would you your yours question wondering wonder explain mean
    means thing things kind sort lot lots alexa ok okay cause causes caused happen happens
    happening make makes making like play long come""".split()
)
# Words of the flagship question itself ("why do my feet go dead when I sit?"): they match
# everywhere, so they never decide a ranking on their own, and a question made only of
# them is the flagship question.
GENERIC = frozenset("""leg legs foot feet numb numbness asleep fall falls falling fell
    sit sits sitting sat sleep sleeping slept dead tingle tingles tingling tingly""".split())

_WORD = re.compile(r"[a-z0-9']+")
MAX_QUERY_CHARS = 500
# FTS5's bm25() is negative, lower is better. A topic must score at least this well;
# calibrated on the questions in tests/test_search.py (true answers score below -2,
# off-topic questions that share one stray word score above -1).
MIN_TOPIC_SCORE = -1.5


@dataclass(frozen=True)
class Match:
    passage: Passage
    score: float


def query_terms(text: str) -> list[str]:
    """The words of `text` worth searching for, lowercased, in order, without duplicates."""
    terms: list[str] = []
    for word in _WORD.findall(text.lower()[:MAX_QUERY_CHARS].replace("\u2019", "'")):
        word = word.strip("'")
        if word and word not in STOPWORDS and word not in terms:
            terms.append(word)
    return terms


class ArticleIndex:
    """In-memory FTS5 tables: one row per topic, one row per passage."""

    def __init__(self) -> None:
        import sqlite3  # here, not at the top: only a free-text question pays for it

        cat = catalogue()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        self._db.execute("CREATE VIRTUAL TABLE topics USING "
                         "fts5(keywords, body, tokenize='porter unicode61')")
        self._db.execute("CREATE VIRTUAL TABLE passages USING "
                         "fts5(body, tokenize='porter unicode61')")
        self._topics = list(cat.topics.values())
        self._passages = list(cat.passages)
        # One alternation over every topic phrase, longest first, matched on word
        # boundaries: a single regex scan per question instead of ~450 substring tests.
        self._phrase_rows: dict[str, set[int]] = {}
        for row, topic in enumerate(self._topics):
            for phrase in (topic.name, *topic.synonyms):
                words = " ".join(_WORD.findall(phrase.lower()))
                if any(w not in GENERIC for w in query_terms(words)):
                    self._phrase_rows.setdefault(words, set()).add(row)
        alternation = "|".join(re.escape(p) for p in sorted(self._phrase_rows, key=len,
                                                              reverse=True))
        self._mentions = re.compile(rf"(?<![a-z0-9'])(?:{alternation})(?![a-z0-9'])")
        self._topic_rowids = {
            t.id: [i for i, p in enumerate(self._passages) if p.topic == t.id]
            for t in self._topics
        }
        self._db.executemany(
            "INSERT INTO topics(rowid, keywords, body) VALUES (?, ?, ?)",
            [(row, " ".join([t.name, *t.synonyms]),
              " ".join(p.text for p in cat.passages_for(t.id)))
             for row, t in enumerate(self._topics)])
        self._db.executemany(
            "INSERT INTO passages(rowid, body) VALUES (?, ?)",
            [(row, p.text) for row, p in enumerate(self._passages)])

    def mentioned_topics(self, text: str) -> list[int]:
        """Rows of the topics whose name or a synonym appears in `text` as whole words.

        Phrases made only of generic or question words ("why", "numb") don't count.
        """
        words = " ".join(_WORD.findall(text.lower().replace("\u2019", "'")))
        rows: set[int] = set()
        position = 0
        while (found := self._mentions.search(words, position)) is not None:
            rows |= self._phrase_rows[found.group(0)]
            # Overlapping mentions count too ("blood sugar" inside "high blood sugar").
            position = found.start() + 1
        return sorted(rows)

    def best(self, text: str) -> Match | None:
        terms = query_terms(text)
        if not any(t not in GENERIC for t in terms):
            return None
        expression = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
        mentioned = self.mentioned_topics(text[:MAX_QUERY_CHARS])
        restrict = f" AND rowid IN ({','.join(map(str, mentioned))})" if mentioned else ""
        with self._lock:
            row = self._db.execute(
                "SELECT rowid, bm25(topics, 4.0, 1.0) AS score FROM topics "
                f"WHERE topics MATCH ?{restrict} ORDER BY score LIMIT 1",
                (expression,)).fetchone()
            if row is None or (row[1] > MIN_TOPIC_SCORE and not mentioned):
                return None
            topic = self._topics[row[0]]
            rowids = self._topic_rowids[topic.id]
            scored = dict(self._db.execute(
                "SELECT rowid, bm25(passages) FROM passages WHERE passages MATCH ? "
                f"AND rowid IN ({','.join(map(str, rowids))})", (expression,)).fetchall())
        # Best body match inside the topic; ties (and no match) go to its earliest passage.
        best = min(rowids, key=lambda r: (scored.get(r, 0.0), r))
        return Match(self._passages[best], row[1])


@functools.cache
def index() -> ArticleIndex:
    return ArticleIndex()


def best_passage(text: str) -> Passage | None:
    """The passage that best answers `text`, or None when nothing matches well enough."""
    match = index().best(text)
    return match.passage if match else None
