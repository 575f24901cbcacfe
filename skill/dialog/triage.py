"""Red-flag triage: what a user said -> emergency, urgent, routine or none.

Why it exists: the skill must never chat about stretches while someone describes a drooping
face. `assess(text)` runs on every slot value of every request, so it survives anything a
request may carry (any Unicode, any length, None).

The levels follow the article's red flags ("Identifying Red Flags"):
- emergency: facial drooping, difficulty speaking, confusion, bowel or bladder control
  (plus obvious emergencies the article's "sudden changes" cover: stroke, collapse);
- urgent: continuous numbness (longer than a few minutes), loss of mobility or weakness,
  severe pain (plus circulation signs, spreading numbness, serious injury);
- routine: episodes that keep coming back, numbness with a health condition, injury,
  back or nerve trouble -- worth an appointment, not an alarm;
- none: an ordinary "my leg fell asleep" story, or an information question.

Safety rules built in (each is a test in tests/test_triage.py):
- negation counts only when it is clear ("no bladder problems", "I'm not confused"):
  a NegEx-style scheme (Chapman et al. 2001) -- a negation cue a few words before the
  sign, or a "fine" cue right after it, within one clause; scope ends at termination
  words ("but", "because", a new subject). Hedges ("I don't think my face is drooping",
  "not sure if my speech is slurred") are pseudo-negations: they count as the flag --
  err toward care. All of these word lists are data (red_flags.json "negation");
- emergency and urgent words count even inside questions ("can slurred speech happen
  with this"); only routine-level words in impersonal questions ("does diabetes cause
  numbness") are treated as information requests;
- a long duration counts only when it describes the symptom ("numb for hours"), not the
  sitting ("after sitting for hours"); with no way to tell, it counts;
- brief, resolved episodes ("couldn't walk for a few seconds until it woke up") are the
  ordinary experience the article describes, so they cancel mobility and lingering-numbness
  flags -- never pain or emergency signs.

All phrase lists live in `red_flags.json` (data); this module is only the machinery: each
flag's patterns are one compiled alternation, built the first time a text needs it.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from skill.datafiles import read_json

NONE, ROUTINE, URGENT, EMERGENCY = "none", "routine", "urgent", "emergency"
LEVELS = (NONE, ROUTINE, URGENT, EMERGENCY)
_RANK = {level: rank for rank, level in enumerate(LEVELS)}

# Slot values are short; anything longer than this is not speech. Bounding the input keeps
# the worst case of a hostile request to a few milliseconds.
MAX_CHARS = 20_000

_SENTENCE = " . "


class Assessment:
    """What triage found in one piece of text (immutable).

    level    -- "emergency", "urgent", "routine" or "none" (the most serious flag found).
    flags    -- red flags found, most serious first (ids from red_flags.json).
    negated  -- flags mentioned but clearly negated ("no bladder problems").
    excused  -- flags matched but explained away by a trap (an idiom, a pet or a face on the
                telly, a baby, an episode that passed): the detector must not ask about them.
    question -- the text reads as a question.
    personal -- it talks about a person (I, my, he, my mum...), not a topic in general.

    A plain class rather than a dataclass: building a dataclass costs about a millisecond
    at import, and this module is on the Lambda cold-start path.
    """

    __slots__ = ("level", "flags", "negated", "question", "personal", "excused")

    def __init__(self, level: str = NONE, flags=(), negated=(), question: bool = False,
                 personal: bool = False, excused=()):
        for name, value in (("level", level), ("flags", tuple(flags)),
                            ("negated", tuple(negated)), ("question", bool(question)),
                            ("personal", bool(personal)), ("excused", tuple(excused))):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError("Assessment is immutable")

    def _key(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other):
        return isinstance(other, Assessment) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
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


# ------------------------------------------------------------------------- policy

# Intents whose slot is the user describing how they feel: even routine-level words there
# deserve routine guidance (an appointment), since that is what the user is telling us.
SYMPTOM_INTENTS = ("DescribeSymptomIntent", "SymptomStoryIntent", "DiscomfortIntent")
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

class _Rules:
    """red_flags.json: plain data at once; each regex compiled on first use (`regex`)."""

    # Pattern lists that are not flags, by where they live in red_flags.json.
    GROUPS = {
        "duration": ("duration", "patterns"), "brief": ("brief", "patterns"),
        "triggers": ("triggers", "patterns"), "symptom": ("duration", "symptom"),
        "activity": ("duration", "activity"), "subject": ("duration", "subject"),
        "recurrence": ("duration", "recurrence_context"),
        "ordinary_context": ("ordinary_episode", "context"),
        "uncertain": ("negation", "uncertain"), "negation_cue": ("negation", "cues"),
        "figures_of_speech": ("traps", "figures_of_speech"),
        "other_subjects": ("traps", "other_subjects"), "resolved": ("traps", "resolved"),
        "young_children": ("traps", "young_children"),
        "developing": ("traps", "developing"), "on_screen": ("traps", "on_screen"),
    }
    # Flags a brief episode that has passed cancels ("then nothing"): never emergencies.
    RESOLVABLE = frozenset(("mobility", "severe_pain", "continuous_numbness"))
    # Signs that are a stage of growing up in a small child ("the baby can't walk yet").
    DEVELOPING = frozenset(("speech", "mobility"))

    def __init__(self, data: dict):
        self.data = data
        self.macros = data["macros"]
        self.flags = tuple(data["flags"])
        specs = data["flags"]
        for flag_id, spec in specs.items():
            if spec["level"] not in LEVELS:
                raise ValueError(f"{flag_id}: unknown level {spec['level']}")
        self.levels = {f: specs[f]["level"] for f in self.flags}
        self.labels = {f: specs[f].get("label", f) for f in self.flags}
        self.flag_rank = {f: (-_RANK[self.levels[f]], i) for i, f in enumerate(self.flags)}
        self.question_sensitive = tuple(f for f in self.flags
                                        if specs[f].get("question_sensitive"))
        self.brief_suppressed = frozenset(f for f in self.flags
                                          if specs[f].get("brief_suppressed"))
        self.trigger_suppressed = frozenset(f for f in self.flags
                                            if specs[f].get("trigger_suppressed"))
        negation = data["negation"]
        self.stop_words = frozenset(self.macros["STOP"].split("|"))
        self.breakers = frozenset(negation["scope_breakers"].split("|"))
        self.window = int(negation["window_words"])
        self.personal = frozenset(data["questions"]["personal"].split("|"))
        self.ordinary_flags = frozenset(data["ordinary_episode"]["flags"])
        self.duration_exclude_before = frozenset(data["duration"]["exclude_before"])
        self.replacements = data["normalize"]["replacements"]
        self.unspaced = tuple((flag, stem) for flag, stems in data.get("unspaced", {}).items()
                              if not flag.startswith("_") for stem in stems)
        self._compiled: dict[str, re.Pattern] = {}

    def patterns(self, owner: str):
        """A flag's or group's pattern list, as red_flags.json has it."""
        if owner in self.levels:
            return self.data["flags"][owner]["patterns"]
        section, key = self.GROUPS[owner]
        return self.data[section][key]

    def regex(self, owner: str) -> re.Pattern:
        """A flag's or group's patterns as one word-bounded alternation (compiled once)."""
        compiled = self._compiled.get(owner)
        if compiled is None:
            compiled = self._compiled[owner] = re.compile(
                r"\b(?:" + self.source(self.patterns(owner)) + r")\b")
        return compiled

    def source(self, patterns) -> str:
        """Macros expanded, stop words marked ("not" -> "_not", as `_mark` marks the text:
        a word gap "{G2}" cannot cross a stop word), entries joined as alternatives."""
        if isinstance(patterns, str):
            patterns = [patterns]
        body = "|".join("(?:" + _expand(p, self.macros) + ")" for p in patterns)
        return self.stop.sub(lambda m: "_" + m.group(0), body)

    @functools.cached_property
    def stop(self) -> re.Pattern:
        words = sorted(self.stop_words, key=len, reverse=True)
        return re.compile(r"(?<![a-z0-9_])(?:" + "|".join(words) + r")(?![a-z0-9_])")

    @functools.cached_property
    def after_fine(self) -> re.Pattern:
        return re.compile(" (?:" + self.source(self.data["negation"]["after_fine"]) + r")\b")

    @functools.cached_property
    def question_start(self) -> re.Pattern:
        return re.compile(r"^(?:" + self.data["questions"]["starts"] + r")\b")

    @functools.cached_property
    def info_phrases(self) -> re.Pattern:
        return re.compile(r"\b(?:" + _expand(self.data["questions"]["info_phrases"],
                                             self.macros) + r")\b")

    @functools.cached_property
    def about_sign(self) -> dict[str, re.Pattern]:
        return {key: re.compile(r"\b(?:" + words + r")\b") for key, words
                in self.data["questions"]["about_sign"].items() if not key.startswith("_")}

    @functools.cached_property
    def replace_regex(self) -> re.Pattern:
        keys = sorted(self.replacements, key=len, reverse=True)
        return re.compile(r"\b(?:" + "|".join(map(re.escape, keys)) + r")\b")

    @functools.cached_property
    def ordinary_past(self) -> re.Pattern:
        return re.compile(self.stop.sub(lambda m: "_" + m.group(0),
                                        self.data["ordinary_episode"]["past"]))


_MACRO = re.compile(r"\{([A-Z][A-Z0-9_]*)\}")
_LONG_UNITS = re.compile(r"\b(?:weeks?|months?|years?|fortnight)\b")
_CLAUSE_SPLIT = re.compile(r"\b_?(?:but|however|although|though|yet|now|whereas|except)\b")


def _expand(pattern: str, macros: dict[str, str]) -> str:
    for _ in range(6):  # macros may use macros; six levels is far more than we nest
        expanded = _MACRO.sub(lambda m: "(?:" + macros[m.group(1)] + ")", pattern)
        if expanded == pattern:
            return expanded
        pattern = expanded
    raise ValueError(f"macro nesting too deep in {pattern[:60]!r}")


@functools.cache
def _rules() -> _Rules:
    """Read the data once; later calls are a dictionary lookup. Compiles nothing."""
    return _Rules(read_json(__file__, "red_flags.json"))


def flag_level(flag: str) -> str:
    """The level a flag id stands for ("face_drooping" -> "emergency")."""
    return _rules().levels[flag]


def flag_label(flag: str) -> str:
    """The article's name for a flag's red flag ("facial drooping")."""
    return _rules().labels[flag]


def flag_ids() -> tuple[str, ...]:
    return _rules().flags


def warm_up() -> None:
    """Read the data now (e.g. at cold start); each flag's regex compiles on first need."""
    assess("warm up")


# ------------------------------------------------------------------------- normalizing

_APOSTROPHES = re.compile(r"['’‘`´ʼ′]")
_ABBREVIATION = re.compile(r"\b((?:[a-z]\.){2,})")
_DECIMAL = re.compile(r"(\d)[.,](\d)")
_SENTENCE_PUNCT = re.compile(r"[.!?;:\n\r…]+")
_OTHER = re.compile(r"[^a-z0-9., ]+")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_DOTS = re.compile(r"(?: \.)+")


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
    text = unicodedata.normalize("NFKD", text[:MAX_CHARS])
    text = "".join(ch for ch in text if ch in "\n\r"
                   or unicodedata.category(ch) not in ("Mn", "Cf", "Cc")).casefold()
    text = _APOSTROPHES.sub("", text)
    text = _ABBREVIATION.sub(lambda m: m.group(1).replace(".", ""), text)
    text = _DECIMAL.sub(r"\1\2", text)
    text = text.replace("&", " and ")
    text = _SENTENCE_PUNCT.sub(" . ", text)
    text = _OTHER.sub(" ", text.replace(",", " , "))
    text = _REPEATS.sub(r"\1\1" if keep_doubles else r"\1", text)
    rules = _rules()
    text = rules.replace_regex.sub(lambda m: rules.replacements[m.group(0)],
                                   " ".join(text.split()))
    return _DOTS.sub(" .", text).strip(" .,")


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
    if _REPEATS.search(text.casefold()):  # "droooping": squeezed to one letter it is lost
        result = more_serious(result, _assess_plain(text, normalize(text, keep_doubles=True),
                                                    question_hint))
    return result


def _assess_plain(text: str, plain: str, question_hint: bool | None) -> Assessment:
    if not plain:
        return Assessment()
    rules = _rules()
    words = plain.split(" ")
    if question_hint is None:
        question = "?" in text or rules.question_start.match(plain) is not None
    else:
        question = bool(question_hint)
    personal = not rules.personal.isdisjoint(rules.info_phrases.sub(" ", plain).split())
    norm = _mark(words, rules)
    found: dict[str, None] = {}
    negated: dict[str, None] = {}

    excused: dict[str, None] = {}     # matched, but a trap explains it (red_flags "traps")
    idioms = [m.span() for m in rules.regex("figures_of_speech").finditer(norm)]
    for flag in rules.flags:
        for match in rules.regex(flag).finditer(norm):
            start, end = match.span()
            if _negated(norm, start, end, rules, question):
                negated[flag] = None
                continue
            if any(lo < end and start < hi for lo, hi in idioms) or \
                    _someone_else(norm, start, end, rules) or \
                    (flag == "bladder_bowel" and _young_child(norm, start, end, rules)) or \
                    (flag in rules.DEVELOPING and _developing(norm, start, end, rules)) or \
                    _on_screen(norm, start, end, rules) or \
                    (flag in rules.RESOLVABLE and _resolved(norm, start, end, rules)):
                excused[flag] = None
                continue
            if flag in rules.brief_suppressed and _in_clause(norm, start, end, "brief"):
                continue
            if flag in rules.trigger_suppressed and \
                    _in_sentence(norm, start, end, "triggers"):
                continue
            if flag in rules.ordinary_flags and rules.ordinary_past.match(match.group(0)) \
                    and _in_clause(norm, start, end, "ordinary_context"):
                continue
            found[flag] = None
            break

    for flag in _duration_flags(norm, rules, idioms):
        found[flag] = None

    squeezed = "".join(words)
    for flag, stem in rules.unspaced:
        if stem in squeezed and flag not in found and flag not in negated \
                and flag not in excused:
            found[flag] = None

    if question and not personal:
        for flag in rules.question_sensitive:
            found.pop(flag, None)

    excused_only = tuple(f for f in excused if f not in found)
    if not found:
        return Assessment(NONE, (), tuple(negated), question, personal, excused_only)
    flags = sorted(found, key=rules.flag_rank.__getitem__)
    return Assessment(rules.levels[flags[0]], flags,
                      tuple(f for f in negated if f not in found), question, personal,
                      excused_only)


_GENERIC_PRONOUNS = frozenset(("they", "their", "them", "theyre", "themselves", "theirs"))


def figure_of_speech(text) -> bool:
    """Does `text` hold an idiom from red_flags.json traps ("I don't know whether I'm coming
    or going", "couldn't get a word out of him")? Then the detector does not ask about it."""
    rules = _rules()
    return rules.regex("figures_of_speech").search(
        _mark(normalize(text).split(" "), rules)) is not None


def _mark(words: list[str], rules: _Rules) -> str:
    """Stop words marked once per text ("not" -> "_not"), as the patterns mark them."""
    return " ".join("_" + w if w in rules.stop_words else w for w in words)


def asks_about_sign(text, *, question_intent: bool = False) -> bool:
    """Is `text` a question ABOUT a warning sign rather than a report of one?

    ("is slurred speech a sign of something serious", "what does it mean if someone's face
    droops".) Only when the words say so clearly (red_flags.json questions.about_sign): a
    question from the first clause (after a lead-in such as "out of interest"), impersonal
    or hypothetical, nothing said about now. In a question intent (`question_intent`) the
    carrier took the question word ("is {query}"), so naming what the sign is ("slurred
    speech a sign of a stroke") is enough -- but not a bare "slurred speech", which may be
    a report. Unclear means a statement (False): guidance at once.
    """
    plain = normalize(text)
    rules = _rules()
    about = rules.about_sign
    clauses = [c.strip() for c in re.split(r" [.,] ", plain) if c.strip()]
    if not clauses:
        return False
    while clauses and (address := about["address_words"].match(clauses[0])):
        clauses[0] = clauses[0][address.end():].strip()   # "alexa, what is ...", "sir ..."
        if not clauses[0]:
            clauses.pop(0)
    if not clauses:
        return False
    first = clauses[0]
    if about["lead_ins"].fullmatch(first) and len(clauses) > 1:
        first = clauses[1]
    hypothetical = about["hypothetical"].search(plain) is not None
    asks = rules.question_start.match(first) or (
        question_intent and about["about_cues"].search(plain))
    if not asks:
        return False
    personal = not rules.personal.isdisjoint(rules.info_phrases.sub(" ", plain).split())
    if about["present"].search(plain):   # "why is my dad suddenly confused": a report
        # ... unless it asks what would happen to anyone ("why would someone suddenly lose
        # control of their bladder": "their" is someone's); "what do I do, someone
        # suddenly can't talk" stays a report.
        words = set(rules.info_phrases.sub(" ", plain).split()) - _GENERIC_PRONOUNS
        return about["general_present"].match(first) is not None and \
            about["now"].search(plain) is None and rules.personal.isdisjoint(words)
    return not personal or hypothetical


def _sentence_bounds(norm: str, start: int, end: int) -> tuple[int, int]:
    left = norm.rfind(_SENTENCE, 0, start)
    right = norm.find(_SENTENCE, end)
    return (0 if left < 0 else left + len(_SENTENCE),
            len(norm) if right < 0 else right)


def _clause_bounds(norm: str, start: int, end: int) -> tuple[int, int]:
    left, right = s_start, s_end = _sentence_bounds(norm, start, end)
    for split in _CLAUSE_SPLIT.finditer(norm, s_start, s_end):
        if split.end() <= start:
            left = split.end()
        elif split.start() >= end:
            right = split.start()
            break
    return left, right


def _in_sentence(norm: str, start: int, end: int, group: str) -> bool:
    return _rules().regex(group).search(norm, *_sentence_bounds(norm, start, end)) is not None


def _in_clause(norm: str, start: int, end: int, group: str) -> bool:
    return _rules().regex(group).search(norm, *_clause_bounds(norm, start, end)) is not None


def _negated(norm: str, start: int, end: int, rules: _Rules, question: bool) -> bool:
    """NegEx-style: a clear negation cue shortly before the sign (scope cut by a
    termination word) or a "fine" cue right after it; a hedge ("not sure", "maybe")
    before it is a pseudo-negation and means "not negated"."""
    c_start, _ = _clause_bounds(norm, start, end)
    before = norm[c_start:start]
    hedge_zone = before[before.rfind(",") + 1:]
    if rules.regex("uncertain").search(hedge_zone):
        return False
    window: list[str] = []
    for word in reversed(before.split()):
        if word.lstrip("_") in rules.breakers or len(window) >= rules.window:
            break
        window.append(word)
    if window and rules.regex("negation_cue").search(" ".join(reversed(window))):
        return True
    return not question and rules.after_fine.match(norm, end) is not None


def _someone_else(norm: str, start: int, end: int, rules: _Rules) -> bool:
    """The sign belongs to a pet or a face on the telly ("my dog looked so confused"): an
    other_subjects word earlier in the clause, no personal word between it and the sign."""
    c_start, _ = _clause_bounds(norm, start, end)
    last = None
    for last in rules.regex("other_subjects").finditer(norm, c_start, start):
        pass
    return last is not None and rules.personal.isdisjoint(norm[last.end():start].split())


def _young_child(norm: str, start: int, end: int, rules: _Rules) -> bool:
    """Wetting and soiling are ordinary for a baby or toddler named in the same clause."""
    return rules.regex("young_children").search(norm, *_clause_bounds(norm, start, end)) \
        is not None


def _developing(norm: str, start: int, end: int, rules: _Rules) -> bool:
    """Not talking or walking yet is a stage, not a sign ("the baby can't walk yet", "she's
    learning to talk and mixes up her words"): a developing cue in the same sentence."""
    return rules.regex("developing").search(norm, *_sentence_bounds(norm, start, end)) \
        is not None


def _on_screen(norm: str, start: int, end: int, rules: _Rules) -> bool:
    """A sentence that opens on a screen ("on the soap last night a character's face
    drooped") tells a story someone watched, not one happening here."""
    s_start, _ = _sentence_bounds(norm, start, end)
    return rules.regex("on_screen").match(norm, s_start) is not None


def _resolved(norm: str, start: int, end: int, rules: _Rules) -> bool:
    """A brief episode that has passed: a resolution after the sign in its sentence, and
    no long duration named there ("couldn't stand for a few seconds, then it was fine")."""
    s_start, s_end = _sentence_bounds(norm, start, end)
    return rules.regex("resolved").search(norm, end, s_end) is not None and \
        rules.regex("duration").search(norm, s_start, s_end) is None


def _duration_flags(norm: str, rules: _Rules, idioms=()) -> list[str]:
    """Long durations that describe the symptom -> continuous numbness (or recurring).
    `idioms`: spans of figures of speech; a duration with no symptom word, in a sentence
    that holds one, describes the idiom."""
    out: list[str] = []
    for match in rules.regex("duration").finditer(norm):
        start, end = match.span()
        before = norm[:start].split()[-1:]
        if before and before[0].lstrip("_") in rules.duration_exclude_before:
            continue
        s_start, s_end = _sentence_bounds(norm, start, end)
        decider = _nearest_before(norm, s_start, start, rules)
        if decider is None:
            decider = _first_after(norm, end, s_end, rules)
        if decider is not None:
            kind, d_start = decider
            if kind != "symptom" or _negated(norm, d_start, end, rules, False):
                continue
        elif any(s_start <= lo and hi <= s_end for lo, hi in idioms):
            continue   # "couldn't get a word out of him all day": the idiom lasted
        if _LONG_UNITS.search(match.group(0)) and \
                rules.regex("recurrence").search(norm, s_start, s_end) is not None:
            flag = "recurring"
        else:
            flag = "continuous_numbness"
        if flag not in out:
            out.append(flag)
        if "continuous_numbness" in out:
            break
    return out


def _nearest_before(norm: str, lo: int, hi: int, rules: _Rules):
    """The closest symptom/subject/activity word before a duration: it says what lasted."""
    best = None  # (end, priority, kind, start)
    for kind, priority in (("symptom", 0), ("subject", 1), ("activity", 2)):
        for m in rules.regex(kind).finditer(norm, lo, hi):
            if best is None or (m.end(), priority) > best[:2]:
                best = (m.end(), priority, kind, m.start())
    return None if best is None else (best[2], best[3])


def _first_after(norm: str, lo: int, hi: int, rules: _Rules):
    best = None
    for kind in ("symptom", "activity"):
        m = rules.regex(kind).search(norm, lo, hi)
        if m and (best is None or m.start() < best[1]):
            best = (kind, m.start())
    return best
