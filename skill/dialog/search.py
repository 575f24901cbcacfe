"""Rank the article's passages against a free-text question, with SQLite FTS5's BM25.

Why FTS5: it ships inside Python's own `sqlite3`, brings a maintained BM25 ranker and the
Porter stemmer ("tingles" finds "tingling"), and costs no import time or memory on the
Lambda cold-start path, where numpy-based rankers would add ~50 ms and ~13 MB. The index
is built lazily, on the first free-text question, in an in-memory database (~1 ms).

Each passage is indexed with two columns: its own words, and the words people use for its
topic (the topic's name and slot synonyms), weighted higher, so that "what does sciatica
feel like" reaches the sciatic nerve passages even though the article never says
"sciatica".
"""

from __future__ import annotations

import functools
import re
import sqlite3
import threading
from dataclasses import dataclass

from skill.content.catalogue import Passage, catalogue

# Words that carry no topic: question scaffolding and the words every passage shares.
STOPWORDS = frozenset(
    """a about after again all also am an and any are as at be because been before being
    but by can could did do does doing don't for from get gets getting go goes going got had
    has have having he her hers him his how i i'm if in into is it it's its just know let
    me more most my myself no nor not of off on once only or other our out over own please
    really same she should so some such tell than that the their them then there these they
    this those to too under up very want was we were what when where which while who whom
    why will with would you your yours question wondering wonder explain mean means thing
    things kind sort lot lots alexa""".split()
)
# Present in nearly every passage: they match, but never decide a ranking on their own.
GENERIC = frozenset("leg legs foot feet numb numbness asleep fall falls falling fell".split())

_WORD = re.compile(r"[a-z0-9']+")
MAX_QUERY_CHARS = 500
# BM25 in FTS5 is negative: lower is better. Calibrated on tests/test_search.py's questions.
MIN_SCORE = -1.0


@dataclass(frozen=True)
class Match:
    passage: Passage
    score: float


def query_terms(text: str) -> list[str]:
    """The words of `text` worth searching for, lowercased, in order, without duplicates."""
    seen: list[str] = []
    for word in _WORD.findall(text.lower()[:MAX_QUERY_CHARS].replace("’", "'")):
        word = word.strip("'")
        if word and word not in STOPWORDS and word not in seen:
            seen.append(word)
    return seen


class PassageIndex:
    """An in-memory FTS5 index over the passage catalogue."""

    def __init__(self) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        self._db.execute(
            "CREATE VIRTUAL TABLE passages USING fts5(body, keywords, tokenize='porter unicode61')"
        )
        cat = catalogue()
        self._passages = list(cat.passages)
        rows = []
        for rowid, passage in enumerate(self._passages):
            topic = cat.topic(passage.topic)
            keywords = " ".join([topic.name, *topic.synonyms]) if topic else ""
            rows.append((rowid, passage.text, keywords))
        self._db.executemany("INSERT INTO passages(rowid, body, keywords) VALUES (?, ?, ?)", rows)

    def rank(self, text: str, limit: int = 5) -> list[Match]:
        terms = query_terms(text)
        specific = [t for t in terms if t not in GENERIC]
        if not specific:
            return []
        expression = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
        with self._lock:
            rows = self._db.execute(
                "SELECT rowid, bm25(passages, 1.0, 3.0) AS score FROM passages "
                "WHERE passages MATCH ? ORDER BY score LIMIT ?",
                (expression, limit),
            ).fetchall()
        return [Match(self._passages[rowid], score) for rowid, score in rows]


@functools.cache
def index() -> PassageIndex:
    return PassageIndex()


def best_passage(text: str) -> Passage | None:
    """The passage that best answers `text`, or None when nothing matches well enough."""
    matches = index().rank(text, limit=1)
    if matches and matches[0].score <= MIN_SCORE:
        return matches[0].passage
    return None
