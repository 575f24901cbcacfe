"""The one normaliser for words as people say them (or as a recogniser writes them down).

Speech recognition and typed test input vary in case, in curly versus straight
apostrophes, in punctuation and spacing, and spell abbreviations either "MS" or "m. s.".
Every place that compares what was heard with a phrase of ours starts from these
functions, and adds only what its own job needs on top (dropping "the" from a topic
name, peeling fillers in the simulator, slot markers in the model linter).

Not for checking that spoken text is a verbatim excerpt: that keeps the article's own
case and punctuation, and only forgives whitespace (`skill.content.normalize_whitespace`).
"""

from __future__ import annotations

import re

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})
_TOKEN = re.compile(r"[a-z0-9']+")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower case, with curly apostrophes made straight: "Don’t" -> "don't"."""
    return text.translate(_APOSTROPHES).lower()


def tokens(text: str) -> list[str]:
    """The words of `text`, folded, apostrophes kept ("what's"), everything else a break."""
    return _TOKEN.findall(fold(text))


def words(text: str) -> str:
    """Folded words, apostrophes dropped ("didn't" -> "didnt"), other punctuation to spaces."""
    return " ".join(_NON_ALNUM.sub(" ", fold(text).replace("'", "")).split())


def join_spelled(text: str) -> str:
    """Letters spoken one at a time joined back into one word: "m s" -> "ms".

    For short phrases (a topic name, a heading); in a long sentence "I" and "a" would join.
    """
    joined: list[str] = []
    run: list[str] = []
    for word in text.split():
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        joined.extend(["".join(run)] if len(run) > 1 else run)
        run = []
        joined.append(word)
    joined.extend(["".join(run)] if len(run) > 1 else run)
    return " ".join(joined)
