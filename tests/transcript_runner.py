"""Play a conversation transcript (YAML data) through the real Lambda handler.

What the user says is turned into an intent by the simulator's NLU, which is built from the
interaction model itself, so a transcript tests the model, the request envelope, the
handlers and the dialog logic together, as Alexa would exercise them.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from skill.dialog import ssml
from simulator import nlu
from simulator.envelopes import Envelopes

TRANSCRIPTS = Path(__file__).resolve().parent / "transcripts"
KNOWN_TURN_KEYS = {
    "launch", "user", "intent", "slots", "new_session", "says", "not_says", "starts_with",
    "session", "reprompt", "card_title", "screen_shown", "note",
}


class TranscriptLoader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. In a transcript, `user: yes` means the word."""


TranscriptLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
TranscriptLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))


@functools.cache
def resolver(locale: str):
    return nlu.load_resolver(locale)


def load_conversations() -> list[tuple[str, dict]]:
    """(test id, conversation) for every conversation of every transcript file."""
    cases = []
    for path in sorted(TRANSCRIPTS.glob("*.yaml")):
        data = yaml.load(path.read_text("utf-8"), Loader=TranscriptLoader)
        for conversation in data["conversations"]:
            cases.append((f"{path.stem}: {conversation['name']}", conversation))
    return cases


@dataclass
class Turn:
    said: str
    speech: str
    reprompt: str | None
    card_title: str | None
    ends: bool
    response: dict = field(repr=False)


class StubSuspicion:
    """What skill.dialog.suspicion.suspect returns: the suspected sign and a score."""

    def __init__(self, flag: str):
        self.flag, self.score = flag, 1.0


def stub_detector(table: dict):
    """A transcript's `detector: {words: flag}`: suspects `flag` when `words` are in the text,
    so the confirmation flow is played the same whatever the real detector would say."""
    def suspect(text: str):
        for words, flag in table.items():
            if words.lower() in text.lower():
                return StubSuspicion(flag)
        return None
    return suspect


def play(conversation: dict, handler) -> list[Turn]:
    """Run every turn, checking its expectations; returns what was heard, for debugging.

    A conversation's `detector` key decides what the statistical detector suspects: a
    {words: flag} table (a stub), `real` (skill.dialog.suspicion), or, when absent, nothing
    (the rules alone), so transcripts written for the rules do not move with the model."""
    from skill.dialog import safety

    setting = conversation.get("detector")
    if setting == "real":
        safety.use_detector(None)
    else:
        safety.use_detector(stub_detector(setting or {}))
    try:
        return _play(conversation, handler)
    finally:
        safety.use_detector(None)


def _play(conversation: dict, handler) -> list[Turn]:
    locale = conversation.get("locale", "en-US")
    envelopes = Envelopes(locale=locale, user_id=f"amzn1.ask.account.test-{uuid.uuid4()}",
                          screen=bool(conversation.get("screen", False)))
    heard: list[Turn] = []
    for number, turn in enumerate(conversation["turns"], 1):
        unknown = set(turn) - KNOWN_TURN_KEYS
        assert not unknown, f"turn {number}: unknown keys {unknown}"
        if turn.get("new_session"):
            envelopes.new_session()
            continue
        event, said = _event_for(turn, envelopes, locale)
        response = handler(event, None)
        json.dumps(response)  # must be plain JSON, as Lambda returns it
        envelopes.carry(response)
        result = _describe(said, response)
        heard.append(result)
        _check(turn, result, number)
    return heard


def _event_for(turn: dict, envelopes: Envelopes, locale: str) -> tuple[dict, str]:
    if "launch" in turn:
        launch = turn["launch"]
        envelopes.new_session()
        if launch is True:
            return envelopes.launch(), "(opens the skill)"
        invoked, request = resolver(locale).split_invocation(str(launch))
        assert invoked, f"{launch!r} does not invoke the skill"
        if not request:
            return envelopes.launch(), str(launch)
        resolution = resolver(locale).resolve(request)
        return envelopes.intent(resolution.intent, nlu.request_slots(resolution)), str(launch)
    if "intent" in turn:
        return envelopes.intent(turn["intent"], turn.get("slots") or {}), turn["intent"]
    said = str(turn["user"])
    resolution = resolver(locale).resolve(said)
    return envelopes.intent(resolution.intent, nlu.request_slots(resolution)), said


def _describe(said: str, response: dict) -> Turn:
    body = response.get("response", {})
    speech = ssml.to_plain_text(body.get("outputSpeech", {}).get("ssml", ""))
    reprompt = body.get("reprompt", {}).get("outputSpeech", {}).get("ssml")
    card = body.get("card") or {}
    return Turn(said=said, speech=speech,
                reprompt=ssml.to_plain_text(reprompt) if reprompt else None,
                card_title=card.get("title"), ends=bool(body.get("shouldEndSession", True)),
                response=response)


def _check(turn: dict, got: Turn, number: int) -> None:
    where = f"turn {number} ({got.said!r}) heard {got.speech!r}"
    spoken = got.speech.lower()
    for phrase in _as_list(turn.get("says")):
        assert phrase.lower() in spoken, f"{where}: expected to hear {phrase!r}"
    for phrase in _as_list(turn.get("not_says")):
        assert phrase.lower() not in spoken, f"{where}: must not hear {phrase!r}"
    if "starts_with" in turn:
        assert spoken.startswith(turn["starts_with"].lower()), \
            f"{where}: expected to start with {turn['starts_with']!r}"
    if "session" in turn:
        assert turn["session"] in ("open", "ends"), f"turn {number}: bad session value"
        assert got.ends == (turn["session"] == "ends"), f"{where}: session should {turn['session']}"
    if not got.ends and got.speech:
        assert got.reprompt, f"{where}: an open session needs a reprompt"
    if turn.get("reprompt"):
        assert got.reprompt, f"{where}: expected a reprompt"
    if "card_title" in turn:
        assert got.card_title == turn["card_title"], f"{where}: card title was {got.card_title!r}"
    if "screen_shown" in turn:
        directives = got.response.get("response", {}).get("directives", [])
        shown = any(d.get("type") == "Alexa.Presentation.APL.RenderDocument" for d in directives)
        assert shown == bool(turn["screen_shown"]), f"{where}: APL shown={shown}"


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
