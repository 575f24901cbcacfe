"""Our own short framing lines, kept as data so that wording changes never touch logic.

Everything here is framing ("Want to hear more?"), never medical content; medical content
comes only from the article's passages.
"""

from __future__ import annotations

import functools
from skill.datafiles import read_json


@functools.cache
def _prompts() -> dict[str, str]:
    data = read_json(__file__, "prompts.json")
    return {key: value for key, value in data.items() if not key.startswith("_")}


def text(key: str, **values: str) -> str:
    """The prompt `key` as plain text, with `{placeholders}` filled in."""
    template = _prompts()[key]
    return template.format(**values) if values else template
