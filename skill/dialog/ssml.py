"""Small SSML helpers, so that the article's plain text is always escaped before Alexa reads it.

Speech in a `Reply` is an SSML fragment (no `<speak>` wrapper). Alexa rejects a `<break>`
longer than 10 seconds, so longer holds are built from chained breaks.
"""

from __future__ import annotations

import re

MAX_BREAK_SECONDS = 10

_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape(text: str) -> str:
    """Plain text -> SSML-safe text (&, < and > escaped; quotes are fine in text nodes).

    A translate table rather than `html.escape`: same result, and the `html` module (with
    its entity tables) stays off the cold-start path.
    """
    return text.translate(_ESCAPES)


def pause(seconds: float) -> str:
    """A silence of `seconds`, as one or more `<break>` tags of at most 10 s each."""
    remaining = max(0.0, float(seconds))
    parts = []
    while remaining > 0:
        chunk = min(MAX_BREAK_SECONDS, remaining)
        parts.append(f'<break time="{_format_seconds(chunk)}"/>')
        remaining -= chunk
    return "".join(parts)


def _format_seconds(seconds: float) -> str:
    if float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{int(round(seconds * 1000))}ms"


def to_plain_text(ssml: str) -> str:
    """SSML -> what a person would hear, as text (tags dropped, entities decoded)."""
    import html  # for entity decoding; only transcripts, cards and the simulator need it

    text = _TAG.sub(" ", ssml)
    return _SPACES.sub(" ", html.unescape(text)).strip()


def wrap(fragment: str) -> str:
    """Wrap a fragment in `<speak>` unless it already is wrapped."""
    stripped = fragment.strip()
    if stripped.startswith("<speak>"):
        return stripped
    return f"<speak>{stripped}</speak>"
