"""The article the skill speaks from, and the rule that keeps every spoken word tied to it.

The article is copied byte-for-byte from the team's shared copy; its SHA-256 is pinned in
the tests so that an edit cannot slip in unnoticed.
"""

from __future__ import annotations

import functools
import re

from skill.datafiles import read_text

ARTICLE_SHA256 = "b026db262c3fec23585743f3bcf0de8590f7323638f1526f51ca25a69285a3a3"

_WHITESPACE = re.compile(r"\s+")


@functools.cache
def article_text() -> str:
    """The article exactly as shipped (UTF-8)."""
    return read_text(__file__, "article.txt")


def normalize_whitespace(text: str) -> str:
    """Collapse runs of whitespace, so an excerpt may be re-wrapped without changing its words."""
    return _WHITESPACE.sub(" ", text).strip()


@functools.cache
def _normalized_article() -> str:
    return normalize_whitespace(article_text())


def is_verbatim_excerpt(text: str) -> bool:
    """True when `text` appears in the article word for word (whitespace aside)."""
    needle = normalize_whitespace(text)
    return bool(needle) and needle in _normalized_article()
