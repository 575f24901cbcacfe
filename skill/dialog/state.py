"""The conversation's memory between turns, and the guard against stale or tampered copies.

Alexa hands session attributes back to us on every request, and anything could be in them
(an old skill version, a hand-edited test envelope, garbage). `SessionState.from_attributes`
accepts only what it recognises and otherwise starts afresh, telling the caller it did so.
Feature modules (the doctor check, the stretch routine) own the shape of their own slice
(`doctor`, `routine`) and validate it themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any

STATE_VERSION = 1
ATTRIBUTE_KEY = "pins_and_needles"

MODES = ("idle", "topic", "doctor_check", "routine")
MAX_TEXT = 8000

# "Repeat" speaks remembered SSML again, and remembered text comes back from outside (the
# session attributes), so it is replayed only if it is SSML this skill could have written:
# text with &amp; &lt; &gt; entities, <break time="..."/> of at most 10 s (60 s in all),
# <sub alias="...">...</sub>, and at most 2,000 characters (our longest is ~800).
# Anything else is forgotten, and "repeat" then says there is nothing to repeat.
MAX_REPLAY_CHARS = 2000
MAX_REPLAY_SILENCE = 60.0
MAX_CARD_TITLE = 200
_SSML_TOKEN = re.compile(
    r'(?P<brk><break time="(?P<num>\d{1,5}(?:\.\d{1,3})?)(?P<unit>ms|s)"\s*/>)'
    r'|(?P<sub><sub alias="[^"<>&]{0,200}">)|(?P<endsub></sub>)'
    r'|(?P<entity>&(?:amp|lt|gt|quot|apos);)|(?P<text>[^<>&]+)')


def replayable_ssml(value: Any) -> bool:
    """True when `value` is SSML this skill could have said (see MAX_REPLAY_CHARS)."""
    if not isinstance(value, str) or len(value) > MAX_REPLAY_CHARS:
        return False
    position, silence, in_sub = 0, 0.0, False
    while position < len(value):
        token = _SSML_TOKEN.match(value, position)
        if token is None:
            return False
        if token.group("brk"):
            seconds = float(token.group("num")) / (1000 if token.group("unit") == "ms" else 1)
            silence += seconds
            if seconds > 10 or silence > MAX_REPLAY_SILENCE or in_sub:
                return False
        elif token.group("sub") or token.group("endsub"):
            if in_sub == bool(token.group("sub")):
                return False
            in_sub = not in_sub
        position = token.end()
    return not in_sub


@dataclass
class SessionState:
    """Everything the skill remembers within one session.

    mode      -- what the user is in the middle of.
    topic     -- the topic whose passages "tell me more" continues.
    passage_index -- index of the last passage spoken within `topic`.
    pending   -- what a bare "yes" would accept right now (e.g. "more", "causes",
                 "topic:<id>", "doctor_check", "routine", "resume_routine"); None = nothing.
    last_speech / last_reprompt -- what was last said, as plain SSML strings, for "repeat".
    last_card_title / last_card_text -- the card that went with it.
    doctor / routine -- feature-owned slices (dicts of JSON values) or None.
    safety    -- the one confirming question of this session (skill/dialog/safety.py):
                 {"asked": bool, "intent": str, "text": str} or None.
    """

    mode: str = "idle"
    topic: str | None = None
    passage_index: int = -1
    pending: str | None = None
    last_speech: str | None = None
    last_reprompt: str | None = None
    last_card_title: str | None = None
    last_card_text: str | None = None
    doctor: dict | None = None
    routine: dict | None = None
    safety: dict | None = None
    was_reset: bool = field(default=False, compare=False)

    @classmethod
    def from_attributes(cls, attributes: Any) -> "SessionState":
        """Read our slice of the session attributes; anything unexpected gives a fresh state."""
        if not attributes:
            return cls()
        raw = attributes.get(ATTRIBUTE_KEY) if isinstance(attributes, dict) else None
        if raw is None:
            return cls()
        try:
            return cls._validated(raw)
        except (TypeError, ValueError, KeyError):
            return cls(was_reset=True)

    @classmethod
    def _validated(cls, raw: Any) -> "SessionState":
        if not isinstance(raw, dict) or raw.get("v") != STATE_VERSION:
            raise ValueError("unknown state version")
        mode = raw.get("mode", "idle")
        if mode not in MODES:
            raise ValueError("unknown mode")
        index = raw.get("passage_index", -1)
        if not isinstance(index, int) or isinstance(index, bool) or not -1 <= index < 1000:
            raise ValueError("bad passage index")
        state = cls(mode=mode, passage_index=index)
        for name in ("topic", "pending", "last_speech", "last_reprompt",
                     "last_card_title", "last_card_text"):
            value = raw.get(name)
            if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
                raise ValueError(f"bad {name}")
            setattr(state, name, value)
        if not (replayable_ssml(state.last_speech) and (
                state.last_reprompt is None or replayable_ssml(state.last_reprompt))
                and len(state.last_card_title or "") <= MAX_CARD_TITLE
                and len(state.last_card_text or "") <= MAX_REPLAY_CHARS):
            state.forget_reply()
        for name in ("doctor", "routine"):
            value = raw.get(name)
            if value is not None and not isinstance(value, dict):
                raise ValueError(f"bad {name}")
            setattr(state, name, value)
        state.safety = _validated_safety(raw.get("safety"))
        return state

    def to_attributes(self) -> dict:
        """Our slice, ready to be stored under `ATTRIBUTE_KEY` in the session attributes."""
        # Shallow on purpose (asdict deep-copies, ~50 us a request): the result is
        # serialized to JSON straight away, and the feature slices are plain JSON values.
        data = {name: getattr(self, name) for name in _STORED_FIELDS}
        data["v"] = STATE_VERSION
        return data

    def remember_reply(self, speech: str, reprompt: str | None,
                       card_title: str | None = None, card_text: str | None = None) -> None:
        self.last_speech = speech
        self.last_reprompt = reprompt
        self.last_card_title = card_title
        self.last_card_text = card_text

    def forget_reply(self) -> None:
        """Nothing to repeat (the remembered reply could not be replayed safely)."""
        self.remember_reply(None, None)


def _validated_safety(value: Any) -> dict | None:
    """The confirming-question slice: exactly its three keys, of the right types."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"asked", "intent", "text"} or \
            not isinstance(value["asked"], bool) or not isinstance(value["intent"], str) or \
            not isinstance(value["text"], str) or len(value["intent"]) > 100 or \
            len(value["text"]) > MAX_TEXT:
        raise ValueError("bad safety slice")
    return value


_STORED_FIELDS = tuple(f.name for f in fields(SessionState) if f.name != "was_reset")
