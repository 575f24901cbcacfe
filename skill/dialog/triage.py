"""Red-flag triage: what a user said -> emergency, urgent, routine or none.

Why it exists: the skill must never chat about stretches while someone describes a drooping
face. `assess(text)` runs on every slot value of every request, so it is written to be
fast (regexes compiled once, on first use) and to survive anything a request may carry
(any Unicode, any length, None).

The levels follow the article's red flags ("Identifying Red Flags"):
- emergency: facial drooping, difficulty speaking, confusion, bowel or bladder control
  (plus obvious emergencies the article's "sudden changes" cover: stroke, collapse);
- urgent: continuous numbness (longer than a few minutes), loss of mobility or weakness,
  severe pain (plus circulation signs, spreading numbness, serious injury);
- routine: episodes that keep coming back, numbness with a health condition, injury,
  back or nerve trouble -- worth an appointment, not an alarm;
- none: an ordinary "my leg fell asleep" story, or an information question.

Safety rules built in (each is a test in tests/test_triage.py):
- negation counts only when it is clear ("no bladder problems", "I'm not confused");
  hedged or unclear negation ("I don't think my face is drooping", "not sure if my
  speech is slurred") counts as the flag -- err toward care;
- emergency and urgent words count even inside questions ("can slurred speech happen
  with this"); only routine-level words in impersonal questions ("does diabetes cause
  numbness") are treated as information requests;
- a long duration counts only when it describes the symptom ("numb for hours"), not the
  sitting ("after sitting for hours"); with no way to tell, it counts;
- brief, resolved episodes ("couldn't walk for a few seconds until it woke up") are the
  ordinary experience the article describes, so they cancel mobility and lingering-numbness
  flags -- never pain or emergency signs.

All phrase lists live in `red_flags.json` (data); this module is only the machinery.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from types import SimpleNamespace

from skill.datafiles import read_json

NONE, ROUTINE, URGENT, EMERGENCY = "none", "routine", "urgent", "emergency"
LEVELS = (NONE, ROUTINE, URGENT, EMERGENCY)
_RANK = {level: rank for rank, level in enumerate(LEVELS)}

# Slot values are short; anything longer than this is not speech. Bounding the input keeps
# the worst case of a hostile request to a few milliseconds.
MAX_CHARS = 20_000

_MACRO = r"\{([A-Z][A-Z0-9_]*)\}"
_SENTENCE = " . "


class Assessment:
    """What triage found in one piece of text (immutable).

    level    -- "emergency", "urgent", "routine" or "none" (the most serious flag found).
    flags    -- red flags found, most serious first (ids from red_flags.json).
    negated  -- flags mentioned but clearly negated ("no bladder problems").
    question -- the text reads as a question.
    personal -- it talks about a person (I, my, he, my mum...), not a topic in general.

    A plain class rather than a dataclass: building a dataclass costs about a millisecond
    at import, and this module is on the Lambda cold-start path.
    """

    __slots__ = ("level", "flags", "negated", "question", "personal")
    _FIELDS = __slots__

    def __init__(self, level: str = NONE, flags: tuple[str, ...] = (),
                 negated: tuple[str, ...] = (), question: bool = False,
                 personal: bool = False):
        for name, value in zip(self._FIELDS, (level, tuple(flags), tuple(negated),
                                              bool(question), bool(personal))):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError("Assessment is immutable")

    def _key(self) -> tuple:
        return tuple(getattr(self, name) for name in self._FIELDS)

    def __eq__(self, other):
        return isinstance(other, Assessment) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._FIELDS)
        return f"Assessment({inner})"

    @property
    def alarm(self) -> bool:
        """True when the skill must interrupt whatever it is doing (emergency or urgent)."""
        return _RANK[self.level] >= _RANK[URGENT]

    @property
    def primary(self) -> str | None:
        """The most serious flag, which picks the article passage the guidance quotes."""
        return self.flags[0] if self.flags else None

    def at_least(self, level: str) -> bool:
        return _RANK[self.level] >= _RANK[level]


def rank(level: str) -> int:
    """Order of seriousness: none 0, routine 1, urgent 2, emergency 3."""
    return _RANK[level]


def more_serious(a: Assessment, b: Assessment) -> Assessment:
    """The more serious of two assessments (the first on a tie)."""
    return b if _RANK[b.level] > _RANK[a.level] else a


def assess_all(texts, *, question: bool | None = None) -> Assessment:
    """The most serious assessment over several texts (e.g. every slot of a request)."""
    result = Assessment()
    for text in texts:
        result = more_serious(result, assess(text, question=question))
    return result


# What a slot's words are, by intent, once Alexa has stripped the carrier phrase: a
# symptom intent's slot is a description, a question intent's slot a question.
QUESTION_INTENTS = ("QuestionIntent",)


def question_hint(intent: str | None) -> bool | None:
    """`assess(..., question=)` for slot text from `intent` (None: judge from the words)."""
    if intent in SYMPTOM_INTENTS:
        return False
    if intent in QUESTION_INTENTS:
        return True
    return None


# ------------------------------------------------------------------------- policy

# Intents whose slot is the user describing how they feel: even routine-level words there
# deserve routine guidance (an appointment), since that is what the user is telling us.
SYMPTOM_INTENTS = ("DescribeSymptomIntent", "SymptomStoryIntent", "DiscomfortIntent")


def preempting_level(assessment: Assessment, intent: str | None, *,
                     catalogue_topic: bool = False) -> str:
    """The guidance the skill gives *instead of* answering the intent ("none": answer it).

    - emergency always preempts, in any intent and any state;
    - urgent preempts too, except when the words are the name of one of the article's
      topics picked from the topic list ("tell me about weakness"): that is a request to
      hear the article, and the topic answer itself covers the warning signs;
    - routine preempts in the symptom intents, and elsewhere only when someone describes
      themselves ("I have diabetes and my feet are numb") -- not in an information question
      ("why does my leg keep falling asleep" is answered from the article).
    """
    level = assessment.level
    if level == EMERGENCY:
        return EMERGENCY
    if level == URGENT:
        return NONE if catalogue_topic else URGENT
    if level == ROUTINE:
        if intent in SYMPTOM_INTENTS or (assessment.personal and not assessment.question):
            return ROUTINE
    return NONE


# ------------------------------------------------------------------------- the data


@functools.cache
def _data() -> dict:
    return read_json(__file__, "red_flags.json")


def _expand(pattern: str, macros: dict[str, str]) -> str:
    for _ in range(6):  # macros may use macros; six levels is far more than we nest
        expanded = re.sub(_MACRO, lambda m: "(?:" + macros[m.group(1)] + ")",
                          pattern)
        if expanded == pattern:
            return expanded
        pattern = expanded
    raise ValueError(f"macro nesting too deep in {pattern[:60]!r}")


def _compile(patterns, macros, stop: re.Pattern, *, bounded: bool = True) -> re.Pattern:
    """Macros expanded, stop words marked (see `_mark`), one alternation, word-bounded."""
    if isinstance(patterns, str):
        patterns = [patterns]
    body = "|".join("(?:" + _expand(p, macros) + ")" for p in patterns)
    body = stop.sub(lambda m: "_" + m.group(0), body)
    return re.compile(r"\b(?:" + body + r")\b" if bounded else body)


def _stop_regex(macros) -> re.Pattern:
    """Stop words (negations, joints) as whole words, in pattern source or in text."""
    words = sorted(macros["STOP"].split("|"), key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9_])(?:" + "|".join(words) + r")(?![a-z0-9_])")


# Compiled rules are kept in SimpleNamespace objects: attribute access like a dataclass,
# without a dataclass's import-time cost.
_Flag = _Rules = SimpleNamespace


@functools.cache
def _rules() -> _Rules:
    """Compile everything once; later calls are a dictionary lookup."""
    data = _data()
    macros = data["macros"]
    stop = _stop_regex(macros)

    def rx(patterns, bounded=True):
        return _compile(patterns, macros, stop, bounded=bounded)

    flags = []
    for flag_id, spec in data["flags"].items():
        if spec["level"] not in LEVELS:
            raise ValueError(f"{flag_id}: unknown level {spec['level']}")
        flags.append(_Flag(
            id=flag_id, level=spec["level"], label=spec.get("label", flag_id),
            regex=rx(spec["patterns"]),
            question_sensitive=bool(spec.get("question_sensitive")),
            brief_suppressed=bool(spec.get("brief_suppressed")),
            trigger_suppressed=bool(spec.get("trigger_suppressed")),
        ))
    duration = data["duration"]
    negation = data["negation"]
    questions = data["questions"]
    replacements = data["normalize"]["replacements"]
    keys = sorted(replacements, key=len, reverse=True)
    return _Rules(
        flags=tuple(flags),
        order={flag.id: i for i, flag in enumerate(flags)},
        levels={flag.id: flag.level for flag in flags},
        labels={flag.id: flag.label for flag in flags},
        stop=stop,
        duration=rx(duration["patterns"]),
        duration_exclude_before=frozenset(duration["exclude_before"]),
        symptom=rx(duration["symptom"]),
        activity=rx(duration["activity"]),
        subject=rx(duration["subject"]),
        recurrence=rx(duration["recurrence_context"]),
        long_units=re.compile(r"\b(?:weeks?|months?|years?|fortnight)\b"),
        brief=rx(data["brief"]["patterns"]),
        triggers=rx(data["triggers"]["patterns"]),
        negation_cue=rx(negation["cues"]),
        uncertain=rx(negation["uncertain"]),
        breakers=frozenset(negation["scope_breakers"].split("|")),
        window=int(negation["window_words"]),
        after_fine=re.compile(" (?:" + rx(negation["after_fine"], bounded=False).pattern
                              + r")\b"),
        question_start=re.compile(r"^(?:" + questions["starts"] + r")\b"),
        info_phrases=re.compile(r"\b(?:" + _expand(questions["info_phrases"], macros) + r")\b"),
        personal=frozenset(questions["personal"].split("|")),
        replacements=replacements,
        replace_regex=re.compile(r"\b(?:" + "|".join(map(re.escape, keys)) + r")\b"),
        ordinary_flags=frozenset(data["ordinary_episode"]["flags"]),
        ordinary_past=re.compile(stop.sub(lambda m: "_" + m.group(0),
                                          data["ordinary_episode"]["past"])),
        ordinary_context=rx(data["ordinary_episode"]["context"]),
        unspaced={flag: tuple(stems) for flag, stems in data.get("unspaced", {}).items()
                  if not flag.startswith("_")},
    )


def flag_level(flag: str) -> str:
    """The level a flag id stands for ("face_drooping" -> "emergency")."""
    return _rules().levels[flag]


def flag_label(flag: str) -> str:
    """The article's name for a flag's red flag ("facial drooping")."""
    return _rules().labels[flag]


def flag_ids() -> tuple[str, ...]:
    return tuple(flag.id for flag in _rules().flags)


def warm_up() -> None:
    """Compile the rules now (e.g. at cold start) rather than on the first request."""
    assess("warm up")


# ------------------------------------------------------------------------- normalizing

@functools.cache
def _text_rx() -> SimpleNamespace:
    """Character-level clean-up patterns, compiled on first use (not at import)."""
    return SimpleNamespace(
        apostrophes=re.compile(r"['’‘`´ʼ′]"),
        abbreviation=re.compile(r"\b((?:[a-z]\.){2,})"),
        decimal=re.compile(r"(\d)[.,](\d)"),
        sentence_punct=re.compile(r"[.!?;:\n\r…]+"),
        comma=re.compile(r","),
        other=re.compile(r"[^a-z0-9., ]+"),
        repeats=re.compile(r"([a-z])\1{2,}"),
        spaces=re.compile(r" +"),
        dots=re.compile(r"(?: \.)+"),
        clause_split=re.compile(r"\b_?(?:but|however|although|though|yet|now|whereas|except)\b"),
    )


def normalize(text, *, keep_doubles: bool = False) -> str:
    """Text -> the form the patterns are written against (see red_flags.json "_about").

    Lower case, accents and invisible characters removed, apostrophes dropped (can't ->
    cant), spelling variants folded, sentence ends as " . " and commas as " , ".
    Letters typed three or more times are squeezed to one ("sooo bad" -> "so bad"), or to
    two with `keep_doubles` ("droooping" -> "drooping"); `assess` tries both.
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    rx = _text_rx()
    text = text[:MAX_CHARS]
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Mn", "Cf", "Cc")
                   or ch in "\n\r")
    text = text.casefold()
    text = rx.apostrophes.sub("", text)
    text = rx.abbreviation.sub(lambda m: m.group(1).replace(".", ""), text)
    text = rx.decimal.sub(r"\1\2", text)
    text = text.replace("&", " and ")
    text = rx.sentence_punct.sub(" . ", text)
    text = rx.comma.sub(" , ", text)
    text = rx.other.sub(" ", text)
    text = rx.repeats.sub(r"\1\1" if keep_doubles else r"\1", text)
    text = rx.spaces.sub(" ", text).strip()
    rules = _rules()
    text = rules.replace_regex.sub(lambda m: rules.replacements[m.group(0)], text)
    text = rx.dots.sub(" .", text)
    return text.strip(" .,")


# ------------------------------------------------------------------------- assessing


def assess(text, *, question: bool | None = None) -> Assessment:
    """Triage one piece of text. Never raises; unreadable input is level "none".

    `question` overrides the guess from the words, for callers that know better: a
    free-text slot has lost its carrier phrase, so "was diagnosed with MS" (from "I
    {description}") is a statement and "a stroke dangerous" (from "is {query}") a question.
    """
    if text is None:
        return Assessment()
    if not isinstance(text, str):
        text = str(text)
    return _assess_cached(text[:MAX_CHARS], question)


@functools.lru_cache(maxsize=512)
def _assess_cached(text: str, question_hint: bool | None) -> Assessment:
    result = _assess_plain(text, normalize(text), question_hint)
    if _text_rx().repeats.search(text.casefold()):  # "droooping": squeezed to one letter it is lost
        result = more_serious(result, _assess_plain(text, normalize(text, keep_doubles=True),
                                                    question_hint))
    return result


def _assess_plain(text: str, plain: str, question_hint: bool | None) -> Assessment:
    rules = _rules()
    if not plain:
        return Assessment()
    if question_hint is None:
        question = "?" in text or bool(rules.question_start.match(plain))
    else:
        question = bool(question_hint)
    personal = _is_personal(plain, rules)
    norm = _mark(plain, rules)
    found: dict[str, None] = {}
    negated: dict[str, None] = {}

    for flag in rules.flags:
        for match in flag.regex.finditer(norm):
            start, end = match.span()
            if _negated(norm, start, end, rules, question):
                negated[flag.id] = None
                continue
            if flag.brief_suppressed and _in_clause(norm, start, end, rules.brief):
                continue
            if flag.trigger_suppressed and _in_sentence(norm, start, end, rules.triggers):
                continue
            if flag.id in rules.ordinary_flags and rules.ordinary_past.match(match.group(0)) \
                    and _in_clause(norm, start, end, rules.ordinary_context):
                continue
            found[flag.id] = None
            break

    for flag_id in _duration_flags(norm, rules):
        found[flag_id] = None

    if rules.unspaced:
        squeezed = plain.replace(" ", "")
        for flag_id, stems in rules.unspaced.items():
            if flag_id not in found and flag_id not in negated and \
                    any(stem in squeezed for stem in stems):
                found[flag_id] = None

    if question and not personal:
        for flag in rules.flags:
            if flag.question_sensitive:
                found.pop(flag.id, None)

    flags = sorted(found, key=lambda f: (-_RANK[rules.levels[f]], rules.order[f]))
    level = rules.levels[flags[0]] if flags else NONE
    return Assessment(
        level=level,
        flags=tuple(flags),
        negated=tuple(f for f in negated if f not in found),
        question=question,
        personal=personal,
    )


def _mark(plain: str, rules: _Rules) -> str:
    """Prefix stop words with "_" (not -> _not): word gaps in patterns cannot cross them.

    Doing this once per text, instead of a negative lookahead in every gap, halves the
    time needed to compile the patterns (cold start).
    """
    return rules.stop.sub(lambda m: "_" + m.group(0), plain)


def _is_personal(norm: str, rules: _Rules) -> bool:
    """Talking about someone rather than asking about a topic ("tell me" does not count)."""
    stripped = rules.info_phrases.sub(" ", norm)
    return any(word in rules.personal for word in stripped.split())


def _sentence_bounds(norm: str, start: int, end: int) -> tuple[int, int]:
    left = norm.rfind(_SENTENCE, 0, start)
    right = norm.find(_SENTENCE, end)
    return (0 if left < 0 else left + len(_SENTENCE),
            len(norm) if right < 0 else right)


def _clause_bounds(norm: str, start: int, end: int) -> tuple[int, int]:
    s_start, s_end = _sentence_bounds(norm, start, end)
    left, right = s_start, s_end
    for split in _text_rx().clause_split.finditer(norm, s_start, s_end):
        if split.end() <= start:
            left = split.end()
        elif split.start() >= end:
            right = split.start()
            break
    return left, right


def _in_sentence(norm: str, start: int, end: int, regex: re.Pattern) -> bool:
    s_start, s_end = _sentence_bounds(norm, start, end)
    return regex.search(norm, s_start, s_end) is not None


def _in_clause(norm: str, start: int, end: int, regex: re.Pattern) -> bool:
    c_start, c_end = _clause_bounds(norm, start, end)
    return regex.search(norm, c_start, c_end) is not None


def _negated(norm: str, start: int, end: int, rules: _Rules, question: bool) -> bool:
    """Clear negation only; uncertainty or a change of subject means "not negated"."""
    c_start, _ = _clause_bounds(norm, start, end)
    before = norm[c_start:start]
    last_comma = before.rfind(",")
    hedge_zone = before[last_comma + 1:] if last_comma >= 0 else before
    if rules.uncertain.search(hedge_zone):
        return False
    words = before.split()
    window: list[str] = []
    for word in reversed(words):
        if word.lstrip("_") in rules.breakers or len(window) >= rules.window:
            break
        window.append(word)
    if window and rules.negation_cue.search(" ".join(reversed(window))):
        return True
    if not question and rules.after_fine.match(norm, end):
        return True
    return False


def _duration_flags(norm: str, rules: _Rules) -> list[str]:
    """Long durations that describe the symptom -> continuous numbness (or recurring)."""
    out: list[str] = []
    for match in rules.duration.finditer(norm):
        start, end = match.span()
        before_word = norm[:start].rsplit(" ", 2)[-1].lstrip("_") if start else ""
        if before_word in rules.duration_exclude_before:
            continue
        s_start, s_end = _sentence_bounds(norm, start, end)
        decider = _nearest_before(norm, s_start, start, rules)
        if decider is None:
            decider = _first_after(norm, end, s_end, rules)
        if decider is not None:
            kind, d_start = decider
            if kind != "symptom":
                continue
            if _negated(norm, d_start, end, rules, question=False):
                continue
        if rules.long_units.search(match.group(0)) and \
                rules.recurrence.search(norm, s_start, s_end):
            flag = "recurring"
        else:
            flag = "continuous_numbness"
        if flag not in out:
            out.append(flag)
        if "continuous_numbness" in out:
            break
    return out


def _nearest_before(norm: str, lo: int, hi: int, rules: _Rules):
    """The closest symptom/activity/subject word before a duration: it says what lasted."""
    best = None  # (end, priority, kind, start)
    for kind, regex, priority in (("symptom", rules.symptom, 0),
                                  ("subject", rules.subject, 1),
                                  ("activity", rules.activity, 2)):
        for m in regex.finditer(norm, lo, hi):
            key = (m.end(), priority)
            if best is None or key > best[:2]:
                best = (m.end(), priority, kind, m.start())
    return None if best is None else (best[2], best[3])


def _first_after(norm: str, lo: int, hi: int, rules: _Rules):
    best = None
    for kind, regex in (("symptom", rules.symptom), ("activity", rules.activity)):
        m = regex.search(norm, lo, hi)
        if m and (best is None or m.start() < best[1]):
            best = (kind, m.start())
    return best
