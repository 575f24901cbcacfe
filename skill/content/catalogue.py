"""The passage catalogue: which article sentences the skill may speak, grouped into topics.

The skill never composes medical text. Everything it says about legs comes from
`passages.json`, each passage a run of whole sentences copied from the article, and
`topics.json` says how people ask for them (the synonyms also feed the `TOPIC` slot type).
Both files are data so that content can be reviewed and changed without touching code.

Loading checks the files, because a broken reference or an edited sentence would otherwise
surface only when a user happens to ask for it; the error names the offending entry. The
checks cost a few milliseconds once per process, so they also run on the Lambda cold start.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from skill.content import article_text, is_verbatim_excerpt, normalize_whitespace, spoken
from skill.datafiles import read_text

# Style limits: a spoken answer longer than this loses the listener. Checked by the tests.
MAX_WORDS = 45
WORDS_PER_MINUTE = 150
MAX_SPEECH_SECONDS = 30

# What Alexa accepts in a custom slot value, minus digits (Alexa hears "two", not "2").
_SLOT_VALUE = re.compile(r"[A-Za-z][A-Za-z .']*")
_WORD = re.compile(r"\w+(?:['’]\w+)*")
_ARTICLES = ("the", "a", "an")
# Words people wrap around a topic name ("tell me about sciatica"). Tried only when the
# whole phrase matched nothing, so a synonym such as "what is it" still wins.
_LEAD_INS = (
    "can you tell me about", "tell me more about", "tell me about", "what do you know about",
    "i want to know about", "i want to hear about", "information about", "what about",
    "how about", "more about", "about", "what is", "what are", "whats", "what's", "my",
)
_TAILS = ("please", "thanks", "thank you")


class CatalogueError(ValueError):
    """The data files disagree with each other or with the article."""


@dataclass(frozen=True)
class Passage:
    """One spoken answer: whole consecutive sentences of the article, verbatim.

    `section` is the article heading the sentences sit under; it doubles as the card title,
    so the listener can find the passage in the article.
    """

    id: str
    topic: str
    section: str
    text: str


@dataclass(frozen=True)
class Topic:
    """A subject a listener can ask for by name, with the words they might use for it.

    `name` is spoken inside our framing ("Want to hear about {name}?"); `related` lists the
    topics to offer when this one runs out, so a conversation never hits a dead end.
    """

    id: str
    name: str
    section: str
    synonyms: tuple[str, ...]
    related: tuple[str, ...]


def word_count(text: str) -> int:
    """Words as a listener hears them: "long-distance" is two, "one’s" is one."""
    return len(_WORD.findall(text))


def normalize_phrase(phrase: str) -> str:
    """The form in which a whole spoken phrase is compared with a topic name or heading:
    the spoken words (`spoken.words`), spelled letters joined ("m. s." -> "ms"), and a
    leading "the"/"a"/"an" dropped, since people add or leave it out."""
    words = spoken.join_spelled(spoken.words(phrase)).split()
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


def _singular(key: str) -> str:
    """A crude plural fold ("hamstrings" -> "hamstring"), good enough for slot values."""
    return " ".join(
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")) else w
        for w in key.split()
    )


def _strip_wrapping(key: str) -> str:
    for lead in _LEAD_INS:
        if key.startswith(lead + " "):
            key = key[len(lead) + 1:]
            break
    for tail in _TAILS:
        if key.endswith(" " + tail):
            key = key[: -len(tail) - 1]
    return normalize_phrase(key)


@dataclass(frozen=True, eq=False)
class Catalogue:
    """The loaded, validated catalogue, shared by every request of a process."""

    passages: tuple[Passage, ...]
    topics: dict[str, Topic]
    _passages_by_id: dict[str, Passage] = field(repr=False)
    _passages_by_topic: dict[str, tuple[Passage, ...]] = field(repr=False)
    # The phrase index: every topic name and synonym as heard (`spoken.tokens`), with the
    # topics it names. Both lookups below work from it: `find_topic` for a whole phrase,
    # `mentioned_topics` for phrases inside a longer text.
    _phrases: dict[str, frozenset[str]] = field(repr=False)
    _lookup: dict[str, str] = field(repr=False)
    _first_by_section: dict[str, Passage] = field(repr=False, default_factory=dict)

    word_count = staticmethod(word_count)

    def passage(self, passage_id: str) -> Passage | None:
        return self._passages_by_id.get(passage_id)

    def topic(self, topic_id: str) -> Topic | None:
        """None for an unknown id, because ids also arrive from session state and slots."""
        return self.topics.get(topic_id)

    def passages_for(self, topic_id: str) -> tuple[Passage, ...]:
        """In "tell me more" order; empty for an unknown topic rather than an error."""
        return self._passages_by_topic.get(topic_id, ())

    def find_topic(self, phrase: str | None) -> Topic | None:
        """The topic a listener named, however the recogniser spelled it; None if unsure.

        Only whole-phrase matches count: guessing a topic from one word of a longer
        question is the search ranker's job, and a wrong guess here would pre-empt it.
        """
        if not phrase:
            return None
        key = normalize_phrase(phrase)
        for candidate in (key, _strip_wrapping(key)):
            if not candidate:
                continue
            topic_id = self._lookup.get(candidate) or self._lookup.get(_singular(candidate))
            if topic_id is not None:
                return self.topics[topic_id]
        return None

    @functools.cached_property
    def _mentions(self) -> re.Pattern:
        """One alternation over every phrase, longest first, on word boundaries: a single
        regex scan of a question instead of hundreds of substring tests. Built on first use."""
        alternation = "|".join(re.escape(p) for p in sorted(self._phrases, key=len, reverse=True))
        return re.compile(rf"(?<![a-z0-9'])(?:{alternation})(?![a-z0-9'])")

    def mentioned_topics(self, text: str, counts: Callable[[str], bool] | None = None) -> list[str]:
        """Ids of the topics whose name or a synonym appears in `text` as whole words.

        `counts(phrase)` says whether a phrase found may name its topic (the ranker leaves
        out phrases made only of generic words such as "numb").
        """
        heard = " ".join(spoken.tokens(text))
        found_ids: set[str] = set()
        position = 0
        while (found := self._mentions.search(heard, position)) is not None:
            if counts is None or counts(found.group(0)):
                found_ids |= self._phrases[found.group(0)]
            # Overlapping mentions count too ("blood sugar" inside "high blood sugar").
            position = found.start() + 1
        return sorted(found_ids)

    def find_section(self, phrase: str | None) -> Passage | None:
        """The first passage under the article heading a listener named ("tell me about
        when to seek medical advice"); None if the words are not a heading.

        Headings are the article's own names for its parts, and every card shows one, so
        people repeat them; a heading that is also a topic name is found by `find_topic`.
        """
        if not phrase:
            return None
        key = normalize_phrase(phrase)
        for candidate in (key, _strip_wrapping(key)):
            passage = self._first_by_section.get(candidate)
            if passage is not None:
                return passage
        return None


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise CatalogueError(message)


def _entries(document: Any, key: str, filename: str) -> Sequence[Mapping[str, Any]]:
    _require(isinstance(document, Mapping) and isinstance(document.get(key), list),
             f'{filename}: expected an object with a "{key}" list')
    for index, entry in enumerate(document[key]):
        _require(isinstance(entry, Mapping), f"{filename}: {key}[{index}] is not an object")
    return document[key]


# Each kind of entry: how its ids are spelled, and that rule in words for the error.
_ID_RULES = {
    "topic": (re.compile(r"[a-z]+(?:_[a-z]+)*"), "lowercase letters and underscores"),
    "passage": (re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*"), "lowercase letters, digits and underscores"),
}


def _identified(document: Any, filename: str, kind: str,
                seen: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any], str]]:
    """Each entry of the document's `<kind>s` list with its checked, unique id, and the
    words that name it in an error. `seen` is the caller's dict, filled as it goes."""
    pattern, rule = _ID_RULES[kind]
    for index, entry in enumerate(_entries(document, kind + "s", filename)):
        where = f"{filename}: {kind}s[{index}]"
        entry_id = _text_field(entry, "id", where)
        where = f"{filename}: {kind} {entry_id!r}"
        _require(pattern.fullmatch(entry_id) is not None, f"{where}: ids are {rule}")
        _require(entry_id not in seen, f"{where}: duplicate id")
        yield entry_id, entry, where


def _text_field(entry: Mapping[str, Any], name: str, where: str) -> str:
    value = entry.get(name)
    _require(isinstance(value, str) and value.strip() != "", f'{where}: "{name}" must be a non-empty string')
    return value


def _list_field(entry: Mapping[str, Any], name: str, where: str) -> tuple[str, ...]:
    value = entry.get(name)
    _require(isinstance(value, list) and all(isinstance(v, str) for v in value),
             f'{where}: "{name}" must be a list of strings')
    return tuple(value)


def from_documents(passages_doc: Any, topics_doc: Any) -> Catalogue:
    """Build a catalogue from the parsed JSON documents, refusing anything inconsistent.

    Separate from file reading so tests can feed it broken data directly.
    """
    article_lines = {line.strip() for line in article_text().splitlines() if line.strip()}

    topics: dict[str, Topic] = {}
    for topic_id, entry, where in _identified(topics_doc, "topics.json", "topic", topics):
        topic = Topic(
            id=topic_id,
            name=_text_field(entry, "name", where),
            section=_text_field(entry, "section", where),
            synonyms=_list_field(entry, "synonyms", where),
            related=_list_field(entry, "related", where),
        )
        _require(topic.section in article_lines, f"{where}: section {topic.section!r} is not an article heading")
        for phrase in (topic.name, *topic.synonyms):
            _require(_SLOT_VALUE.fullmatch(phrase) is not None,
                     f"{where}: {phrase!r} is not a valid slot value (letters, spaces, ' and . only)")
        topics[topic_id] = topic

    phrases: dict[str, set[str]] = {}
    lookup: dict[str, str] = {}
    for topic in topics.values():
        for related_id in topic.related:
            _require(related_id in topics, f"topics.json: topic {topic.id!r} relates to unknown topic {related_id!r}")
            _require(related_id != topic.id, f"topics.json: topic {topic.id!r} relates to itself")
        for phrase in (topic.name, *topic.synonyms):
            phrases.setdefault(" ".join(spoken.tokens(phrase)), set()).add(topic.id)
    # The whole-phrase lookup: the index's phrases in comparison form (and each topic's id,
    # which arrives from slots and session state), singular too; each must name one topic.
    named = [(t.id.replace("_", " "), t.id) for t in topics.values()]
    named += [(phrase, topic_id) for phrase, ids in phrases.items() for topic_id in sorted(ids)]
    for phrase, topic_id in named:
        key = normalize_phrase(phrase)
        for variant in dict.fromkeys((key, _singular(key))):
            owner = lookup.setdefault(variant, topic_id)
            _require(owner == topic_id,
                     f"topics.json: {phrase!r} of topic {topic_id!r} is ambiguous with topic {owner!r}")

    passages: list[Passage] = []
    by_id: dict[str, Passage] = {}
    by_topic: dict[str, list[Passage]] = {topic_id: [] for topic_id in topics}
    for passage_id, entry, where in _identified(passages_doc, "passages.json", "passage", by_id):
        passage = Passage(
            id=passage_id,
            topic=_text_field(entry, "topic", where),
            section=_text_field(entry, "section", where),
            text=_text_field(entry, "text", where),
        )
        _require(passage.topic in topics, f"{where}: unknown topic {passage.topic!r}")
        _require(passage.section in article_lines, f"{where}: section {passage.section!r} is not an article heading")
        _require(is_verbatim_excerpt(passage.text), f"{where}: text is not a verbatim excerpt of the article")
        passages.append(passage)
        by_id[passage_id] = passage
        by_topic[passage.topic].append(passage)

    for topic_id, topic_passages in by_topic.items():
        _require(bool(topic_passages), f"topics.json: topic {topic_id!r} has no passages")

    # For each heading, the passage that comes first in the article.
    article = normalize_whitespace(article_text())
    first_by_section: dict[str, Passage] = {}
    for passage in sorted(passages, key=lambda p: article.find(normalize_whitespace(p.text))):
        first_by_section.setdefault(normalize_phrase(passage.section), passage)

    return Catalogue(
        passages=tuple(passages),
        topics=topics,
        _passages_by_id=by_id,
        _passages_by_topic={topic_id: tuple(ps) for topic_id, ps in by_topic.items()},
        _phrases={phrase: frozenset(ids) for phrase, ids in phrases.items()},
        _lookup=lookup,
        _first_by_section=first_by_section,
    )


def _read_json(filename: str) -> Any:
    text = read_text(__file__, filename)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CatalogueError(f"{filename}: invalid JSON: {error}") from error


@functools.cache
def catalogue() -> Catalogue:
    """The catalogue, loaded on first use: import stays free on the cold-start path."""
    return from_documents(_read_json("passages.json"), _read_json("topics.json"))


# Questions per passage in the bank: enough registers to be robust, few enough to review.
MIN_QUESTIONS, MAX_QUESTIONS = 10, 20


@dataclass(frozen=True)
class QuestionBank:
    """`questions.json`: for every passage, questions it answers; and, by family, near-domain
    questions the article does not answer. Ours, for ranking only: never spoken."""

    questions: dict[str, tuple[str, ...]]
    not_covered: dict[str, tuple[str, ...]]


def bank_from_document(document: Any, cat: Catalogue) -> QuestionBank:
    """Check the bank against the catalogue: every passage has 10-20 distinct questions."""
    _require(isinstance(document, Mapping), "questions.json: expected an object")
    by_passage = document.get("passages")
    _require(isinstance(by_passage, Mapping), 'questions.json: expected a "passages" object')
    questions: dict[str, tuple[str, ...]] = {}
    for passage_id, entry in by_passage.items():
        where = f"questions.json: passage {passage_id!r}"
        _require(cat.passage(passage_id) is not None, f"{where}: unknown passage")
        _require(isinstance(entry, list) and all(isinstance(q, str) and q.strip() for q in entry),
                 f"{where}: expected a list of questions")
        _require(MIN_QUESTIONS <= len(entry) <= MAX_QUESTIONS,
                 f"{where}: has {len(entry)} questions, not {MIN_QUESTIONS}-{MAX_QUESTIONS}")
        _require(len({normalize_phrase(q) for q in entry}) == len(entry), f"{where}: duplicate question")
        questions[passage_id] = tuple(entry)
    missing = [p.id for p in cat.passages if p.id not in questions]
    _require(not missing, f"questions.json: no questions for passages {missing}")
    families = document.get("not_covered", {})
    _require(isinstance(families, Mapping) and all(
        isinstance(v, list) and v and all(isinstance(q, str) for q in v) for v in families.values()),
        'questions.json: "not_covered" must map family names to lists of questions')
    return QuestionBank(questions, {name: tuple(qs) for name, qs in families.items()})


@functools.cache
def question_bank() -> QuestionBank:
    """The bank, loaded on first use by the ranker (never on a LaunchRequest)."""
    return bank_from_document(_read_json("questions.json"), catalogue())
