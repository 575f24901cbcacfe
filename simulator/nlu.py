"""The simulator's language understanding: typed text -> intent and slots, from the model itself.

Why build it on `interaction_models/<locale>.json` instead of a hand-kept table: the chat
and the transcript tests then exercise the very sample utterances Alexa is trained on, so a
phrase that stops resolving (a sample deleted, a slot renamed, a topic dropped) fails here
first. It is deliberately a pattern matcher, not a statistical model: what resolves is
exactly what a sample says, which keeps tests deterministic and honest about coverage.

How a sample matches (see `Resolver.resolve`):
- text is normalized (lowercase, punctuation dropped, "’" -> "'", digits spelled out, a
  leading "alexa"/"please" or trailing "please" ignored), and so is every sample;
- a custom slot (e.g. TOPIC) matches its values and synonyms, with an optional "the",
  "a", "an" or "my" in front; AMAZON.SearchQuery takes any text; other AMAZON.* types take
  a word or a few;
- contractions listed in `alexa_language.json` are interchangeable ("what's" = "what is");
- the best match wins: a sample with no free text over one with free text over one whose
  custom slot heard an unknown value; then samples the model lists over Alexa's own
  built-in utterances; then more literal words; then the model's order.
- nothing matches -> AMAZON.FallbackIntent, as Alexa does for out-of-domain requests.

`request_slots` turns a `Resolution` into the `intent.slots` JSON Alexa sends, entity
resolution included; `split_invocation` separates "ask leg numbness guide ..." from the
request, as Alexa does before it matches samples.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import re
import sys
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from skill.content import spoken

FALLBACK_INTENT = "AMAZON.FallbackIntent"
SEARCH_QUERY = "AMAZON.SearchQuery"
DEFAULT_LOCALE = "en-US"
DEFAULT_SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-000000000000"
MODEL_DIR = Path(__file__).resolve().parents[1] / "skill-package" / "interactionModels" / "custom"
# Written sample expressions, per model (see `load_resolver`); git-ignored, safe to delete.
CACHE_DIR = Path(__file__).resolve().parents[1] / ".simulator" / "cache"

ER_MATCH = "ER_SUCCESS_MATCH"
ER_NO_MATCH = "ER_SUCCESS_NO_MATCH"

# How well a sample matched, best first (see the module docstring).
TIER_EXACT, TIER_FREE_TEXT, TIER_UNKNOWN_VALUE = 3, 2, 1
_ARTICLE = r"(?:(?:the|a|an|my) )?"
_FEW_WORDS = r"[a-z']+(?: [a-z']+){0,3}"
_ANY_TEXT = r".+"
_SLOT = re.compile(r"\{([^{}]+)\}")


@functools.cache
def language() -> dict:
    """`alexa_language.json`: what Alexa understands by itself (built-ins, invocations)."""
    text = resources.files(__package__).joinpath("alexa_language.json").read_text("utf-8")
    return json.loads(text)


# ---------------------------------------------------------------------------- normalizing

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n: int) -> str:
    """0..999999 as spoken ("thirty", "one hundred twenty"); bigger numbers digit by digit."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")
    if n < 1_000_000:
        thousands, rest = divmod(n, 1000)
        return f"{number_words(thousands)} thousand" + (f" {number_words(rest)}" if rest else "")
    return " ".join(_ONES[int(d)] for d in str(n))


_DIGITS = re.compile(r"\d+")
_NOT_WORD = re.compile(r"[^a-z' ]+")
_QUOTE_EDGE = re.compile(r"(?:(?<=\s)|^)'+|'+(?=\s|$)")


def _clean(text: str) -> str:
    text = spoken.fold(text.replace("&", " and "))
    text = _DIGITS.sub(lambda m: f" {number_words(int(m.group()))} ", text)
    text = text.replace(".", "")  # "m.s." and "ms" are the same spoken word
    text = _NOT_WORD.sub(" ", text)
    text = _QUOTE_EDGE.sub("", " ".join(text.split()))
    return " ".join(text.split())


def normalize(text: str) -> str:
    """What was typed, as the words Alexa would hear (see the module docstring).

    Wake words and a "please" at either end are dropped: this is the form `resolve` tries
    first-hand and `split_invocation` works on.
    """
    return min(heard_variants(text), key=len)


def heard_variants(text: str) -> list[str]:
    """The cleaned text, and every form of it with fillers peeled off either end.

    `resolve` tries them all, so "please do" still matches a sample that says "please do"
    while "alexa please why does my leg fall asleep" matches the one without them.
    """
    fillers = language()["fillers"]
    leading, trailing = fillers["leading"], fillers["trailing"]
    start = _clean(text)
    seen, queue = [start], [start]
    while queue:
        current = queue.pop(0)
        peeled = [current[len(w) + 1:] for w in leading if current.startswith(w + " ")]
        peeled += [current[: -len(w) - 1] for w in trailing if current.endswith(" " + w)]
        if current in leading or current in trailing:
            peeled.append("")
        for variant in peeled:
            if variant not in seen:
                seen.append(variant)
                queue.append(variant)
    return seen


# ---------------------------------------------------------------------------- resolving

@dataclass(frozen=True)
class Resolution:
    """What Alexa understood: the intent, and the slots it filled.

    `slots` maps slot name -> {"value": what was heard, "type": slot type}, plus, for a
    custom slot type, "resolved_id"/"resolved_name" when the words matched a value or
    synonym and "matches" (every matching value, as [{"id", "name"}], empty when none).
    `slot_types` lists every slot the intent declares (filled or not), which Alexa always
    sends. `sample` is the sample utterance that matched (None for the fallback).
    """

    intent: str
    slots: dict[str, dict] = field(default_factory=dict)
    slot_types: dict[str, str] = field(default_factory=dict, compare=False)
    sample: str | None = field(default=None, compare=False)
    text: str = field(default="", compare=False)


@dataclass(frozen=True)
class _Pattern:
    """One sample as a regular expression, compiled on first use (see `Resolver`)."""

    intent: str
    sample: str
    source: str
    anchors: frozenset[str]  # literal words any matching text must contain
    slot_names: tuple[str, ...]
    tier: int
    from_model: bool
    literal_chars: int
    order: int

    @property
    def regex(self) -> re.Pattern:
        return _regex(self.source)


# Compiling every sample's expression up front took seconds at each start (~3,500 per
# locale); compiled on demand and shared by every locale, a request compiles only the few
# samples whose literal words it contains.
_regex = functools.cache(re.compile)


class Resolver:
    """Resolves text against one locale's interaction model (the generated JSON, as a dict).

    Building one only writes each sample's expression as text; `resolve` skips every
    sample whose literal words are not all in the text, and compiles the rest on first use.
    """

    def __init__(self, model_json: dict, patterns: list[_Pattern] | None = None):
        model = model_json.get("interactionModel", model_json).get("languageModel", model_json)
        self.invocation_name: str = model.get("invocationName", "")
        self.intents: dict[str, dict[str, str]] = {
            intent["name"]: {s["name"]: s["type"] for s in intent.get("slots", [])}
            for intent in model.get("intents", [])
        }
        self._values = {t["name"]: _value_index(t) for t in model.get("types", [])}
        self._value_choices: dict[str, str] = {}
        self._patterns: list[_Pattern] = []
        if patterns is not None:  # written before, for this very model (`load_resolver`)
            self._patterns = patterns
            return
        builtin = language()["builtin_samples"]
        for intent in model.get("intents", []):
            for sample in intent.get("samples", []):
                self._add(intent["name"], sample, from_model=True)
            for sample in builtin.get(intent["name"], []):
                self._add(intent["name"], sample, from_model=False)

    # -- compiling

    def _add(self, intent: str, sample: str, *, from_model: bool) -> None:
        slots = self.intents[intent]
        parts = _split_sample(sample)
        literal = " ".join(p for kind, p in parts if kind == "text")
        literal_words = len(literal.split())
        used = [slots.get(p, "") for kind, p in parts if kind == "slot"]
        custom = [t for t in used if not t.startswith("AMAZON.")]
        free = [t for t in used if t.startswith("AMAZON.")]
        variants = [(TIER_FREE_TEXT if free else TIER_EXACT, False)]
        # A custom slot may hear a word that is not in its list (Alexa then sends
        # ER_SUCCESS_NO_MATCH); allow that only behind a real carrier phrase, or every
        # short sentence would land in "{topic}".
        if custom and literal_words >= 2:
            variants.append((TIER_UNKNOWN_VALUE, True))
        for tier, open_custom in variants:
            source, anchors, names = self._compile(parts, slots, open_custom)
            if source is None:
                continue
            self._patterns.append(_Pattern(intent, sample, source, anchors, names, tier,
                                           from_model, len(literal.replace(" ", "")),
                                           len(self._patterns)))

    def _compile(self, parts, slots, open_custom) -> tuple[str | None, frozenset[str],
                                                         tuple[str, ...]]:
        """The sample's expression (as text), its anchor words and its slot names, in order."""
        pieces, anchors, names = [], set(), []
        for kind, part in parts:
            if kind == "text":
                literal, words = _literal(part)
                pieces.append(literal)
                anchors.update(words)
                continue
            slot_type = slots.get(part)
            if slot_type is None:
                return None, frozenset(), ()  # undeclared slot: the model tests report it
            names.append(part)
            if slot_type == SEARCH_QUERY:
                pieces.append(f"({_ANY_TEXT})")
            elif slot_type.startswith("AMAZON."):
                pieces.append(f"({_FEW_WORDS})")
            elif open_custom:
                pieces.append(f"{_ARTICLE}({_FEW_WORDS})")
            else:
                choices = self._choices(slot_type)
                if not choices:
                    return None, frozenset(), ()
                pieces.append(f"{_ARTICLE}({choices})")
        body = " ".join(pieces)
        # An optional article before a slot sits after the joining space; "the {topic}" and
        # "{topic}" samples therefore overlap harmlessly.
        return f"^{body}$", frozenset(anchors), tuple(names)

    def _choices(self, slot_type: str) -> str:
        """A custom slot's spoken values and synonyms as one alternation, longest first."""
        if slot_type not in self._value_choices:
            spoken = sorted(self._values.get(slot_type, {}), key=len, reverse=True)
            self._value_choices[slot_type] = "|".join(map(re.escape, spoken))
        return self._value_choices[slot_type]

    # -- matching

    def resolve(self, text: str) -> Resolution:
        """The intent and slots Alexa would send for `text` (FallbackIntent when nothing fits)."""
        variants = [v for v in heard_variants(text) if v]
        heard = min(variants, key=len) if variants else ""
        words = [frozenset(v.split()) for v in variants]
        best, best_key = None, None
        for pattern in self._patterns:
            for variant, variant_words in zip(variants, words):
                if not pattern.anchors <= variant_words:
                    continue  # a literal word of the sample is missing: cannot match
                match = pattern.regex.match(variant)
                if not match:
                    continue
                slots, custom_chars = self._slots(pattern, match)
                key = (pattern.tier, pattern.from_model, pattern.literal_chars, custom_chars,
                       -pattern.order)
                if best_key is None or key > best_key:
                    best, best_key, heard = (pattern, slots), key, variant
        if best is None:
            return Resolution(FALLBACK_INTENT, {}, self.intents.get(FALLBACK_INTENT, {}),
                              None, heard)
        pattern, slots = best
        return Resolution(pattern.intent, slots, dict(self.intents[pattern.intent]),
                          pattern.sample, heard)

    def _slots(self, pattern: _Pattern, match: re.Match) -> tuple[dict[str, dict], int]:
        slots, custom_chars = {}, 0
        declared = self.intents[pattern.intent]
        for name, value in zip(pattern.slot_names, match.groups()):
            slot_type = declared[name]
            slot = {"value": value, "type": slot_type}
            if not slot_type.startswith("AMAZON."):
                matches = self._values.get(slot_type, {}).get(value, [])
                slot["matches"] = [dict(m) for m in matches]
                if matches:
                    slot["resolved_id"] = matches[0]["id"]
                    slot["resolved_name"] = matches[0]["name"]
                    custom_chars += len(value)
            slots[name] = slot
        return slots, custom_chars

    def resolution_for(self, intent: str, values: dict[str, str] | None = None) -> Resolution:
        """A `Resolution` for a chosen intent and raw slot values, resolved against the model.

        For tests and `/intent` in the chat, where the intent is given rather than heard.
        """
        declared = self.intents.get(intent, {})
        slots = {}
        for name, raw in (values or {}).items():
            slot_type = declared.get(name, SEARCH_QUERY)
            slot = {"value": raw, "type": slot_type}
            if not slot_type.startswith("AMAZON."):
                matches = self._values.get(slot_type, {}).get(_clean(raw), [])
                slot["matches"] = [dict(m) for m in matches]
                if matches:
                    slot["resolved_id"] = matches[0]["id"]
                    slot["resolved_name"] = matches[0]["name"]
            slots[name] = slot
        return Resolution(intent, slots, dict(declared), None, "")

    def split_invocation(self, text: str, *, in_session: bool = False) -> tuple[bool, str]:
        """See the module-level `split_invocation`; uses this model's invocation name."""
        return split_invocation(text, self.invocation_name, in_session=in_session)


def _split_sample(sample: str) -> list[tuple[str, str]]:
    """A sample as ("text", normalized words) and ("slot", name) parts, in order."""
    parts: list[tuple[str, str]] = []
    position = 0
    for match in _SLOT.finditer(sample):
        words = _clean(sample[position:match.start()])
        if words:
            parts.append(("text", words))
        parts.append(("slot", match.group(1)))
        position = match.end()
    words = _clean(sample[position:])
    if words:
        parts.append(("text", words))
    return parts


def _value_index(slot_type: dict) -> dict[str, list[dict]]:
    """Normalized spoken form -> every value it names ([{"id", "name"}], model order)."""
    index: dict[str, list[dict]] = {}
    for value in slot_type.get("values", []):
        name = value["name"]["value"]
        entry = {"id": value.get("id") or name, "name": name}
        for spoken in [name, *value["name"].get("synonyms", [])]:
            key = _clean(spoken)
            if key and entry not in index.setdefault(key, []):
                index[key].append(entry)
    return index


@functools.cache
def _equivalence_table() -> tuple[tuple[str, ...], ...]:
    """Contraction groups, longest first so "can not" is tried before "can"."""
    groups = [tuple(_clean(v) for v in group)
              for group in language()["equivalent_phrasings"]["groups"]]
    return tuple(sorted(groups, key=lambda g: -max(len(v.split()) for v in g)))


@functools.cache
def _equivalents_by_first_word() -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """First word -> [(a phrasing's words, its group as an alternation)], in table order."""
    index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for group in _equivalence_table():
        choices = "(?:" + "|".join(re.escape(v) for v in group) + ")"
        for variant in group:
            words = tuple(variant.split())
            index.setdefault(words[0], []).append((words, choices))
    return index


@functools.cache
def _literal(text: str) -> tuple[str, tuple[str, ...]]:
    """Normalized sample words as an expression, and the words it requires as they are.

    A phrasing with equivalents ("what is" / "what's") becomes an alternation and requires
    no particular word; every other word is required literally.
    """
    words = text.split()
    index = _equivalents_by_first_word()
    out, required, i = [], [], 0
    while i < len(words):
        for phrasing, choices in index.get(words[i], ()):
            if tuple(words[i:i + len(phrasing)]) == phrasing:
                out.append(choices)
                i += len(phrasing)
                break
        else:
            out.append(re.escape(words[i]))
            required.append(words[i])
            i += 1
    return " ".join(out), tuple(required)


@functools.cache
def load_resolver(locale: str = DEFAULT_LOCALE, model_dir: str | None = None) -> Resolver:
    """The resolver for a locale's generated model, its sample expressions cached on disk.

    Writing ~3,500 sample expressions is most of the simulator's start, so they are kept
    in `CACHE_DIR`, keyed on the hash of the model, `alexa_language.json`, this module and
    the Python version: any change to one of them rebuilds them. An unreadable or
    unwritable cache only costs time.
    """
    raw = (Path(model_dir or MODEL_DIR) / f"{locale}.json").read_bytes()
    model = json.loads(raw)
    cache = CACHE_DIR / f"{locale}-{_cache_key(raw)}.pickle"
    try:
        patterns = pickle.loads(cache.read_bytes())
    except Exception:  # absent, truncated, or from a different class layout: rebuild
        patterns = None
    resolver = Resolver(model, patterns if isinstance(patterns, list) else None)
    if patterns is None:
        _write_cache(cache, resolver._patterns)
    return resolver


def _cache_key(model: bytes) -> str:
    digest = hashlib.sha256(model)
    digest.update(resources.files(__package__).joinpath("alexa_language.json").read_bytes())
    digest.update(Path(__file__).read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()[:24]


def _write_cache(cache: Path, patterns: list[_Pattern]) -> None:
    """Write atomically (two processes may build at once), dropping stale entries."""
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        for stale in cache.parent.glob(f"{cache.name.rsplit('-', 1)[0]}-*.pickle"):
            stale.unlink(missing_ok=True)
        with tempfile.NamedTemporaryFile(dir=cache.parent, delete=False) as handle:
            handle.write(pickle.dumps(patterns, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(handle.name, cache)
    except OSError:
        pass


# ---------------------------------------------------------------------------- Alexa's JSON

def request_slots(resolution: Resolution, skill_id: str = DEFAULT_SKILL_ID) -> dict[str, dict]:
    """`request.intent.slots` exactly as Alexa sends it for this resolution.

    Every declared slot is present; an unfilled one carries only its name and confirmation
    status. A filled custom slot carries entity resolution (`resolutions` and the newer
    `slotValue`): ER_SUCCESS_MATCH with every matching value, or ER_SUCCESS_NO_MATCH.
    """
    out: dict[str, dict] = {}
    for name, slot_type in resolution.slot_types.items():
        out[name] = {"name": name, "confirmationStatus": "NONE"}
    for name, slot in resolution.slots.items():
        slot_type = slot.get("type") or resolution.slot_types.get(name, SEARCH_QUERY)
        value = alexa_builtin_value(slot_type, slot["value"])
        entry = {"name": name, "value": value, "confirmationStatus": "NONE",
                 "source": "USER"}
        simple = {"type": "Simple", "value": value}
        if not slot_type.startswith("AMAZON."):
            resolutions = _resolutions(slot.get("matches", []), slot_type, skill_id)
            entry["resolutions"] = resolutions
            simple["resolutions"] = resolutions
        entry["slotValue"] = simple
        out[name] = entry
    return out


_PARTS_OF_DAY = {"morning": "MO", "afternoon": "AF", "evening": "EV", "night": "NI"}


def alexa_builtin_value(slot_type: str, heard: str) -> str:
    """The value Alexa sends for what was heard: AMAZON.DURATION as ISO 8601 ("forty five
    minutes" -> "PT45M"), AMAZON.TIME as "HH:MM" or a part of the day ("afternoon" -> "AF");
    anything else, or what cannot be read, as heard. (A bare "thirty minutes" in a slot is
    not what Alexa sends, and triage would rightly read it as numbness lasting that long.)"""
    if slot_type not in ("AMAZON.DURATION", "AMAZON.TIME"):
        return heard
    from skill.dialog import reminders  # the same readers the skill uses for typed values

    if slot_type == "AMAZON.DURATION":
        minutes = reminders.parse_duration(heard)
        if not minutes:
            return heard
        return f"PT{minutes // 60}H" if minutes % 60 == 0 else f"PT{minutes}M"
    words = heard.lower().split()
    if words and words[-1] in _PARTS_OF_DAY:
        return _PARTS_OF_DAY[words[-1]]
    clock = reminders.parse_clock(heard)
    return f"{clock[0] // 60:02d}:{clock[0] % 60:02d}" if clock else heard


def _resolutions(matches: list[dict], slot_type: str, skill_id: str) -> dict:
    authority = {"authority": f"amzn1.er-authority.echo-sdk.{skill_id}.{slot_type}",
                 "status": {"code": ER_MATCH if matches else ER_NO_MATCH}}
    if matches:
        authority["values"] = [{"value": {"name": m["name"], "id": m["id"]}} for m in matches]
    return {"resolutionsPerAuthority": [authority]}


# ---------------------------------------------------------------------------- invocations

@functools.cache
def _invocation_patterns(name: str) -> tuple[tuple[re.Pattern, ...], tuple[re.Pattern, ...]]:
    """(patterns usable any time, patterns only for a device with no skill session open)."""
    rules = language()["invocation"]
    quoted = r"(?:the )?" + re.escape(_clean(name))
    lead = "(?:(?:" + "|".join(map(re.escape, rules["lead_ins"])) + ") )?"
    with_request = []
    for entry in rules["with_request"]:
        connecting = [c for c in entry["connecting"] if c]
        optional = "" in entry["connecting"]
        joint = "(?: (?:" + "|".join(connecting) + "))" + ("?" if optional else "")
        with_request.append(
            re.compile(f"^{lead}{re.escape(entry['verb'])} {quoted}{joint} (?P<rest>.+)$"))
    verbs = "|".join(map(re.escape, sorted(rules["launch_only"], key=len, reverse=True)))
    launch = re.compile(f"^{lead}(?:{verbs}) {quoted}$")
    bare = re.compile(f"^{quoted}$")
    suffix = re.compile(f"^(?P<rest>.+) (?:{'|'.join(rules['request_then_name']['connecting'])})"
                        f" {quoted}$")
    return (launch, *with_request), (bare, suffix)


def split_invocation(text: str, invocation_name: str = "leg numbness guide", *,
                     in_session: bool = False) -> tuple[bool, str]:
    """(True, request) when `text` invokes the skill by name; (False, text) otherwise.

    "open leg numbness guide" -> (True, ""); "ask leg numbness guide what is the sciatic
    nerve" -> (True, "what is the sciatic nerve") (a connecting word after the name, as
    in "ask ... about ...", is dropped, as Alexa does); "why does my leg fall asleep" ->
    (False, "why does my leg fall asleep"). `in_session=True` accepts only the forms that
    start with a launch word: inside a session, the bare name is ordinary text.
    Returned text is normalized.
    """
    heard = normalize(text)
    anytime, idle_only = _invocation_patterns(invocation_name)
    for pattern in anytime + (() if in_session else idle_only):
        match = pattern.match(heard)
        if match:
            return True, (match.groupdict().get("rest") or "").strip()
    return False, heard
