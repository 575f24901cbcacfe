"""Red-flag triage: what a user said -> emergency, urgent, routine or none.

Why it exists: the skill must never chat about stretches while someone describes a drooping
face. `assess(text)` runs on every slot value of every request, so it is written to be
fast (only the patterns a text's words could match are run, each compiled on first use:
see "Speed" below) and to survive anything a request may carry (any Unicode, any length,
None).

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
        set_ = object.__setattr__
        set_(self, "level", level)
        set_(self, "flags", tuple(flags))
        set_(self, "negated", tuple(negated))
        set_(self, "question", bool(question))
        set_(self, "personal", bool(personal))

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
#
# Speed. `assess` runs on every slot value of every request, and the patterns are big
# (~50 kB of regex source once macros are expanded: ~35 ms to compile, ~60 us to run
# over a short text). Three things keep triage cheap:
#
# - a prefilter: every pattern (each top-level alternative of each entry of a "patterns"
#   list) is analysed once, without compiling it, for words that any match must contain:
#   "(?:face|mouth) {G3}(?:sag|sags)" cannot match a text that has none of "sag", "sags"
#   ("face"/"mouth" would do as well; the rarer-looking choice is kept). A text's words
#   then select the few patterns worth running; the others cannot match and are skipped.
#   The analysis only ever errs toward running a pattern: a construct it does not model
#   makes that pattern always run, and a word that may sit inside a longer one is looked
#   for as a substring of the text rather than as one of its words;
# - lazy compilation: each pattern is compiled the first time a text selects it;
# - merging: a flag's selected patterns are run one by one and their matches merged
#   leftmost first (ties to the earlier pattern), which gives exactly the matches of the
#   one big alternation that red_flags.json describes (`_matches`).


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


class _Lazy:
    """Attributes built on first access by `_builders[name](self)`, plain attributes after.

    Keeps regex compilation off the import, and off requests that never need a pattern.
    """

    _builders: dict = {}

    def __getattr__(self, name):
        build = type(self)._builders.get(name)
        if build is None:
            raise AttributeError(name)
        value = build(self)
        setattr(self, name, value)
        return value


def _rx(rules, patterns, bounded: bool = True) -> re.Pattern:
    return _compile(patterns, rules.macros, rules.stop, bounded=bounded)


class _Rules(_Lazy):
    """The rules from red_flags.json: plain data at once, regexes when first used."""

    _builders = {
        "stop": lambda r: _stop_regex(r.macros),
        "after_fine": lambda r: re.compile(
            " (?:" + _rx(r, r.data["negation"]["after_fine"], bounded=False).pattern + r")\b"),
        "question_start": lambda r: re.compile(
            r"^(?:" + r.data["questions"]["starts"] + r")\b"),
        "info_phrases": lambda r: re.compile(
            r"\b(?:" + _expand(r.data["questions"]["info_phrases"], r.macros) + r")\b"),
        "replace_regex": lambda r: re.compile(r"\b(?:" + "|".join(
            map(re.escape, sorted(r.replacements, key=len, reverse=True))) + r")\b"),
        "ordinary_past": lambda r: re.compile(r.stop.sub(
            lambda m: "_" + m.group(0), r.data["ordinary_episode"]["past"])),
        "long_units": lambda r: re.compile(r"\b(?:weeks?|months?|years?|fortnight)\b"),
        "unspaced_any": lambda r: re.compile(
            "|".join(re.escape(stem) for _, stem in r.unspaced)),
        "prefilter": lambda r: _prefilter(r),
    }


# Flags are kept in SimpleNamespace objects: attribute access like a dataclass, without a
# dataclass's import-time cost.
_Flag = SimpleNamespace

# Pattern lists that are not flags, by where they live in red_flags.json.
_GROUPS = (
    ("duration", ("duration", "patterns")),
    ("brief", ("brief", "patterns")),
    ("triggers", ("triggers", "patterns")),
    ("symptom", ("duration", "symptom")),
    ("activity", ("duration", "activity")),
    ("subject", ("duration", "subject")),
    ("recurrence", ("duration", "recurrence_context")),
    ("ordinary_context", ("ordinary_episode", "context")),
    ("uncertain", ("negation", "uncertain")),
    ("negation_cue", ("negation", "cues")),
)

_PLAIN_WORDS = r"[a-z0-9]+(?: [a-z0-9]+)*"


def _entries(patterns) -> list[str]:
    """A pattern list as entries; no entries is one empty entry (the same regex)."""
    return [patterns] if isinstance(patterns, str) else list(patterns) or [""]


@functools.cache
def _rules() -> _Rules:
    """Read the data once; later calls are a dictionary lookup. Compiles nothing."""
    data = _data()
    rules = _Rules()
    rules.data = data
    rules.macros = macros = data["macros"]

    entries: list[str] = []    # every pattern entry: flags' (owner: flag index) first,
    owners: list = []          # then the _GROUPS' (owner: group name)
    flags = []
    for index, (flag_id, spec) in enumerate(data["flags"].items()):
        if spec["level"] not in LEVELS:
            raise ValueError(f"{flag_id}: unknown level {spec['level']}")
        patterns = _entries(spec["patterns"])
        entries += patterns
        owners += [index] * len(patterns)
        flags.append(_Flag(
            id=flag_id, level=spec["level"], label=spec.get("label", flag_id),
            question_sensitive=bool(spec.get("question_sensitive")),
            brief_suppressed=bool(spec.get("brief_suppressed")),
            trigger_suppressed=bool(spec.get("trigger_suppressed")),
        ))
    for name, (section, key) in _GROUPS:
        patterns = _entries(data[section][key])
        entries += patterns
        owners += [name] * len(patterns)
    rules.entries = tuple(entries)
    rules.entry_owners = tuple(owners)
    rules.combined = {}

    rules.flags = tuple(flags)
    rules.order = {flag.id: i for i, flag in enumerate(flags)}
    rules.levels = {flag.id: flag.level for flag in flags}
    rules.labels = {flag.id: flag.label for flag in flags}
    rules.question_sensitive = tuple(flag.id for flag in flags if flag.question_sensitive)
    rules.flag_rank = {flag.id: (-_RANK[flag.level], i) for i, flag in enumerate(flags)}

    duration = data["duration"]
    negation = data["negation"]
    rules.duration_exclude_before = frozenset(duration["exclude_before"])
    rules.breakers = frozenset(negation["scope_breakers"].split("|"))
    rules.window = int(negation["window_words"])
    rules.personal = frozenset(data["questions"]["personal"].split("|"))
    rules.ordinary_flags = frozenset(data["ordinary_episode"]["flags"])
    rules.unspaced = tuple((flag, stem) for flag, stems in data.get("unspaced", {}).items()
                          if not flag.startswith("_") for stem in stems)

    # Word-level shortcuts, taken only when the data is plain words (it is; a regex in
    # these lists would take the regex path, which is the definition).
    plain = re.compile(_PLAIN_WORDS).fullmatch
    stop_words = macros["STOP"].split("|")
    rules.stop_words = (frozenset(stop_words) if all(plain(w) and " " not in w
                                                     for w in stop_words) else None)
    starts = data["questions"]["starts"].split("|")
    if all(plain(start) for start in starts):
        rules.question_starts = frozenset(starts)
        rules.question_width = max(start.count(" ") for start in starts) + 1
    else:
        rules.question_starts = None
    rules.replacements = replacements = data["normalize"]["replacements"]
    if all(plain(k) and plain(v) for k, v in replacements.items()):
        rules.replace_words = {k: v.split(" ") for k, v in replacements.items()}
        rules.replace_width = max(k.count(" ") for k in replacements) + 1
        rules.replace_heads = frozenset(k.split(" ", 1)[0] for k in replacements if " " in k)
        rules.replace_keys = rules.replace_heads.union(rules.replace_words)
    else:
        rules.replace_words = None
    return rules


def flag_level(flag: str) -> str:
    """The level a flag id stands for ("face_drooping" -> "emergency")."""
    return _rules().levels[flag]


def flag_label(flag: str) -> str:
    """The article's name for a flag's red flag ("facial drooping")."""
    return _rules().labels[flag]


def flag_ids() -> tuple[str, ...]:
    return tuple(flag.id for flag in _rules().flags)


def warm_up() -> None:
    """Prepare what every request needs now (e.g. at cold start), not on the first request.

    Each pattern is still compiled when a text first selects it.
    """
    assess("warm up")


# ------------------------------------------------------------------------- the prefilter
#
# For each pattern: words of which any match must contain one as a whole word of the
# analysed text (`_mark`ed, so "not" is "_not"), plus strings of which it must contain
# one as a substring; or None: always run it. The analysis walks the pattern source as
# items (literal text, groups, classes, macros, anchors, lookarounds) and keeps, for each
# alternative, the cheapest-looking required item. A literal word counts as a whole word
# only when the pattern puts a non-word character, a word boundary, the start or the end
# on both sides of it; otherwise it is a substring.

_W, _N = 1, 2                 # a character that can be a word character / a non-word one
_ITEM, _START, _END, _EDGE, _ZERO = 0, 1, 2, 3, 4   # item kinds: text, ^, $, \b, other
_LITERAL = r"[^()\[\]{}\\|?*+^$.]"
_META = frozenset("()[]{}\\|?*+^$.")
_WORDISH = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
_BITS = {chr(c): (_W if chr(c).isalnum() or chr(c) == "_" else _N) for c in range(128)}
# Words too common to select a pattern well (a cost estimate only, never a correctness
# matter): they are chosen only when a pattern offers nothing better. The symptom, limb
# and ordinary-episode words of red_flags.json join them (`_prefilter`), and marked stop
# words: nearly every user says one.
_COMMON = frozenset(
    "a an the my i im ive id it its is to of in on at for me you he she his her they them "
    "this that was be been have has had with up out like get got do did can just some any "
    "all one as by from are were your our we".split())
# Items: (kind, first bits, last bits, nullable, repeats, best). `best` is None or
# (cost, bundles): one of the bundles' words must occur; a bundle is (words, left edge
# open, right edge open, substring). An open edge is one the item cannot decide: the
# neighbours in the enclosing sequence do.
_ANY_ITEM = (_ITEM, _W | _N, _W | _N, False, False, None)
_SPACE_ITEM = (_ITEM, _N, _N, False, False, None)
_ZERO_ITEMS = {"^": (_START, 0, 0, True, False, None), "$": (_END, 0, 0, True, False, None),
               "\\b": (_EDGE, 0, 0, True, False, None), "\\A": (_START, 0, 0, True, False, None),
               "\\Z": (_END, 0, 0, True, False, None), "\\B": (_ZERO, 0, 0, True, False, None)}
_LOOKAROUNDS = ("(?=", "(?!", "(?<=", "(?<!")


class _Unanalysable(Exception):
    """A construct the prefilter does not model: that pattern always runs."""


@functools.cache
def _analysis_regexes() -> SimpleNamespace:
    return SimpleNamespace(
        tokens=re.compile(
            # whole alternatives of plain words, after '(', '|' (not '\|') or the start:
            # "a|b|" (and another comes), or "a|b" (before ')' or the end)
            r"(?:(?<=\()|(?<=\(\?:)|(?<=\(\?[=!])|(?<=\(\?<[=!])|(?<=\|)(?<!\\\|)|(?<!.))"
            r"(?:" + _LITERAL + r"++\|)+(?:" + _LITERAL + r"++(?=\)|\Z))?"
            r"|\(\?:" + _LITERAL + r"+(?:\|" + _LITERAL + r"+)*\)"  # group of plain words
            r"|\((?:\?(?:[:=!]|<[=!]))?"                            # group, lookaround
            r"|[)|]"
            r"|\[\^?\]?(?:\\.|[^\]\\])*\]"                          # character class
            r"|\{[A-Z][A-Z0-9_]*\}"                                 # macro
            r"|(?:[?*+]|\{\d*,?\d*\})[?+]?"                         # quantifier
            r"|\\."
            r"|" + _LITERAL + r"+"
            r"|.", re.S).findall,
        plain=re.compile(r"[a-z0-9_ |]*").fullmatch,
        # In "a|b c|...": for each alternative, (words before, the first word of four
        # letters or more -- or the last word --, the rest).
        phrase_word=re.compile(r"(?:^|\|)((?:[a-z0-9_]{1,3} )*+)([a-z0-9_]+)([^|]*)").findall,
    )


def _cost(words, common, substring: bool = False, open_edges: int = 0) -> float:
    """How often a bundle would let its pattern run, roughly (fewer, rarer words: better;
    open edges may yet make them substrings)."""
    if len(words) == 1 and not substring:
        return (20 if words[0] in common else 1) + 0.25 * open_edges
    cost = len(words) + 19 * len(common.intersection(words))
    if substring:
        cost = 8 * cost + 30 * sum(len(w) < 4 for w in words)
    return cost * (1 + 0.25 * open_edges)


class _Analyser:
    """Required-word analysis of pattern sources (see the section comment)."""

    def __init__(self, macros: dict[str, str], stop_words, stop_regex, common=_COMMON):
        self.macros = macros
        self.common = common
        self.stop = stop_words or frozenset()
        self.stop_regex = stop_regex      # () -> the stop regex, for unusual literal text
        self.macro_items: dict[str, tuple | None] = {}
        self.literals: dict[str, tuple] = {}
        regexes = _analysis_regexes()
        self.tokenize = regexes.tokens
        self.plain = regexes.plain
        self.phrase_word = regexes.phrase_word

    def split(self, source: str) -> list:
        """[(pattern, triggers)]: the top-level alternatives of an entry, with what each
        must contain ((words, substrings), or None: always run). Neighbouring alternatives
        of plain words stay together."""
        try:
            alternatives = self._parse(source, top=True)
        except (_Unanalysable, KeyError, ValueError, IndexError, RecursionError):
            return [(source, None)]
        out: list = []          # [texts, words, substrings, plain]
        for text, best, plain in alternatives:
            best = self._built(best)
            if best is None:
                out.append(([text], None, None, False))
                continue
            # Edges still open here touch the pattern's own \b...\b: whole words.
            words: list = []
            subs: list = []
            for bundle in best[1]:
                (subs if bundle[3] else words).extend(bundle[0])
            if plain and out and out[-1][3]:
                last = out[-1]
                last[0].append(text)
                last[1].extend(words)
                last[2].extend(subs)
            else:
                out.append(([text], words, subs, plain))
        result = []
        for texts, words, subs, _ in out:
            found = None
            if words is not None:
                if subs:
                    subs = {s for s in subs if not any(o != s and o in s for o in subs)}
                    words = [w for w in words if not any(s in w for s in subs)]
                found = (frozenset(words), tuple(sorted(subs)))
            result.append(("|".join(texts), found))
        return result

    # -- parsing: one pass over the tokens, a stack for the open groups

    def _parse(self, source: str, top: bool = False):
        """`source` as one item (an alternation, as a macro is); with `top`, its top-level
        alternatives instead: [(text, best, only plain words)]."""
        tokens = self.tokenize(source)
        common = self.common
        stop = self.stop
        stack: list = []
        alts: list = []
        items: list | None = []    # None: the alternative just ended with plain words
        plain = True
        begin = 0                  # token index where the current top-level alternative began
        i, n = 0, len(tokens)
        while i < n:
            token = tokens[i]
            i += 1
            head = token[0]
            if head not in _META:
                if "|" in token:
                    # Whole alternatives of plain words ("a|b c|d"): like a plain group.
                    # "a|b|": another alternative comes; "a|b": the group or source ends.
                    if items:
                        raise _Unanalysable(token)  # not an alternative's start ("\\(a|b")
                    more = token[-1] == "|"
                    body = token[:-1] if more else token
                    item = self._plain_group(body)
                    if top and not stack:
                        alts.append((body, item[5], plain))
                        begin = i
                    else:
                        alts.append(item[1:4] + item[5:])
                    items = [] if more else None
                    continue
                run = token
                if (run in stop if " " not in run else not stop.isdisjoint(run.split(" "))) \
                        or "," in run or "'" in run or "-" in run:
                    run = self._mark(run, tokens[i - 2][-1] if i > 1 else " ",
                                     tokens[i][0] if i < n else " ")
                if i < n:
                    after = tokens[i]
                    if (after[0] in "?*+" or (after[0] == "{" and not after[1:2].isupper())) \
                            and len(run) > 1:
                        items.append(self._literal(run[:-1]))  # a quantifier takes one
                        run = run[-1]
                item = self._literal(run)
            elif head == "|":
                if top and not stack:
                    if items is not None:
                        alts.append(("".join(tokens[begin:i - 1]),
                                     self._sequence(items)[3], plain))
                    begin = i
                    plain = True
                elif items is not None:
                    alts.append(self._sequence(items))
                items = []
                continue
            elif head == "(":
                plain = plain and bool(stack)
                if token[-1] == ")" and len(token) > 3:
                    item = self._plain_group(token[3:-1])
                else:
                    stack.append((alts, items, token))
                    alts, items = [], []
                    continue
            elif head == ")":
                if items is not None:
                    alts.append(self._sequence(items))
                if not stack:
                    raise _Unanalysable(source)
                inner = alts
                alts, items, opener = stack.pop()
                if opener == "(?:" or opener == "(":
                    item = self._group(inner)
                elif opener in _LOOKAROUNDS:
                    item = _ZERO_ITEMS["\\B"]
                else:
                    raise _Unanalysable(opener)
            else:
                plain = plain and bool(stack)
                if head == "{":
                    if not token[1:2].isupper():
                        raise _Unanalysable(token)
                    item = self._macro(token[1:-1])
                elif head == "[":
                    item = _class_item(token)
                elif head == "\\":
                    item = _escape_item(token)
                elif head == "^" or head == "$":
                    item = _ZERO_ITEMS[head]
                elif head == ".":
                    item = _ANY_ITEM
                else:
                    raise _Unanalysable(token)   # a quantifier with nothing to repeat, ...
            if i < n:
                quantifier = tokens[i]
                if quantifier[0] in "?*+" or (quantifier[0] == "{"
                                              and not quantifier[1:2].isupper()):
                    i += 1
                    item = _quantified(item, quantifier)
                    plain = plain and bool(stack)
            items.append(item)
        if stack:
            raise _Unanalysable(source)
        if top:
            if items is not None:
                alts.append(("".join(tokens[begin:]), self._sequence(items)[3], plain))
            return alts
        if items is not None:
            alts.append(self._sequence(items))
        return self._group(alts)

    def _literal(self, run: str) -> tuple:
        item = self.literals.get(run)
        if item is None:
            item = self.literals[run] = _literal(run, self.common)
        return item

    def _macro(self, name: str) -> tuple:
        item = self.macro_items.get(name)
        if item is None:
            if name in self.macro_items:          # being analysed: a cycle
                raise _Unanalysable(name)
            self.macro_items[name] = None
            item = self.macro_items[name] = self._parse(self.macros[name])
        return item

    def _mark(self, run: str, before: str = " ", after: str = " ") -> str:
        """Stop words in a literal run marked as `_compile` marks them ("not" -> "_not"),
        given the characters the source has before and after it."""
        if not self.stop:
            return run
        if self.plain(run) is None:
            # Punctuation beside a word: let the stop regex itself decide, with the
            # neighbouring characters it would see in the full source.
            marked = self.stop_regex().sub(lambda m: "_" + m.group(0), before + run + after)
            return marked[1:-1]
        parts = run.split(" ")
        last = len(parts) - 1
        for k, part in enumerate(parts):
            if part in self.stop and (k or before not in _WORDISH) and \
                    (k < last or after not in _WORDISH):
                parts[k] = "_" + part
        return " ".join(parts)

    def _plain_group(self, body: str) -> tuple:
        """(?:a|b c|d): plain alternatives; one word of each must occur. Words are picked
        from phrases ("b c") only if the group is chosen (`_built`): an estimate till then."""
        alts = body.split("|")
        stop = self.stop
        if " " not in body and body.replace("|", "").replace("_", "").isalnum() \
                and body.isascii():
            # Single words, each touching the group's edges on both sides.
            words = alts if stop.isdisjoint(alts) else \
                ["_" + a if a in stop else a for a in alts]
            return (_ITEM, _W, _W, False, False,
                    (_cost(words, self.common, False, 2), ((tuple(words), True, True, False),)))
        n = len(alts)
        if self.plain(body) is not None:
            # Words and spaces only: an alternative starts (ends) with a space or a word.
            spaced = ("|" + body).count("| ")
            first = (_N if spaced else 0) | (_W if spaced < n else 0)
            spaced = (body + "|").count(" |")
            last = (_N if spaced else 0) | (_W if spaced < n else 0)
        else:
            first = last = 0
            for alt in alts:
                first |= _BITS.get(alt[0], _W | _N)
                last |= _BITS.get(alt[-1], _W | _N)
        # An estimate: one-word alternatives count as in _cost (stop words are common).
        estimate = n + 0.5 + 19 * (len(self.common.intersection(alts))
                                   + len(self.stop.intersection(alts)))
        return (_ITEM, first, last, False, False, (estimate, body))

    def _built(self, best):
        """`best` with its words picked: the analysis defers that (`_Later`, a plain
        group's body, a group's alternatives) until the item is chosen."""
        if best is None:
            return None
        later = best[1]
        kind = type(later)
        if kind is tuple:
            return best
        if kind is str:
            return self._plain_words(later)
        if kind is list:                      # a group: every alternative's words
            cost = 0
            bundles: list = []
            for alternative in later:
                alternative = self._built(alternative)
                if alternative is None:
                    return None
                cost += alternative[0]
                bundles += alternative[1]
            return (cost, tuple(bundles))
        return self._resolved(later.items)

    def _plain_words(self, body: str):
        """The words of a plain group: one of each alternative -- for a phrase, the first
        word of four letters or more (a rarer one if that is common)."""
        if self.plain(body) is None:
            return self._plain_words_slowly(body)
        stop = self.stop
        alts = body.split("|")
        words = [a for a in alts if " " not in a]
        if not stop.isdisjoint(words):
            words = ["_" + w if w in stop else w for w in words]
        edges: dict = {(True, True): words} if words else {}
        phrases = [a for a in alts if " " in a]
        if phrases:
            found = self.phrase_word("|".join(phrases))
            if len(found) != len(phrases):
                return self._plain_words_slowly(body)   # a phrase with a leading space
            common = self.common
            for lead, word, rest in found:
                if word in common or word in stop:   # a rarer word, if there is one
                    parts = (lead + word + rest).split(" ")
                    word = min(parts, key=lambda w: (not w, w in common or w in stop,
                                                     -len(w)))
                    lead, rest = word != parts[0], word != parts[-1]
                    if word in stop:
                        word = "_" + word
                key = (not lead, not rest)
                same = edges.get(key)
                if same is None:
                    edges[key] = [word]
                else:
                    same.append(word)
        bundles = tuple((tuple(words), lo, ro, False) for (lo, ro), words in edges.items())
        return (sum(_cost(b[0], self.common, False, b[1] + b[2]) for b in bundles), bundles)

    def _plain_words_slowly(self, body: str):
        """`_plain_words`, an alternative at a time: the longest word of each (a rarer one
        if that is common)."""
        edges: dict = {}
        plain = self.plain(body) is not None
        stop = self.stop
        common = self.common
        for alt in body.split("|"):
            if plain:
                # Words between spaces; the outer ones' neighbours are '(?:', '|' or ')',
                # so stop words are always marked.
                parts = alt.split(" ")
                word = max(parts, key=len)
                if word in common or word in stop:   # a rarer one, if there is one
                    word = min(parts, key=lambda w: (not w, w in common or w in stop,
                                                     -len(w)))
                if not word:
                    return None
                lo, ro = word == parts[0], word == parts[-1]
                if word in stop:
                    word = "_" + word
            else:
                if stop or "," in alt or "'" in alt or "-" in alt:
                    alt = self._mark(alt)
                found = _literal(alt, self.common)[5]
                if found is None:
                    return None
                ((word,), lo, ro, _), = found[1]
            words = edges.get((lo, ro))
            if words is None:
                edges[(lo, ro)] = [word]
            else:
                words.append(word)
        bundles = tuple((tuple(words), lo, ro, False) for (lo, ro), words in edges.items())
        return (sum(_cost(b[0], self.common, False, b[1] + b[2]) for b in bundles), bundles)

    def _group(self, alts) -> tuple:
        """An alternation of sequence summaries -> an item: one alternative's words must
        occur."""
        first = last = 0
        nullable = False
        cost = 0
        bests: list | None = []
        for f, l, null, best in alts:
            first |= f
            last |= l
            nullable = nullable or null
            if bests is not None:
                if best is None:
                    bests = None
                else:
                    cost += best[0]
                    bests.append(best)
        return (_ITEM, first, last, nullable, False, None if bests is None else (cost, bests))

    def _sequence(self, items) -> tuple:
        """(first bits, last bits, nullable, best) of one alternative; best: its cheapest
        required item, worked out when chosen (`_resolved`)."""
        if len(items) == 1:               # nothing beside the item: its edges stay open
            item = items[0]
            if item[0] == _ITEM and not item[4]:
                return item[1], item[2], item[3], item[5]
        first = last = 0
        nullable = True
        for item in items:
            if item[0] == _ITEM:
                first |= item[1]
                if not item[3]:
                    nullable = False
                    break
        for item in reversed(items):
            if item[0] == _ITEM:
                last |= item[2]
                if not item[3]:
                    break
        cost = None
        for item in items:
            if item[5] is not None and (cost is None or item[5][0] < cost):
                cost = item[5][0]
        if cost is None:
            return first, last, nullable, None
        return first, last, nullable, (cost, _Later(items))

    def _resolved(self, items):
        """The cheapest required item's words, with the edges this sequence can decide
        closed: a neighbour that may be a word character makes those words substrings."""
        candidates = [(item[5][0], index) for index, item in enumerate(items)
                      if item[5] is not None]
        if len(candidates) > 1:
            candidates.sort()
        for _, where in candidates:          # the cheapest estimate that has words
            best = self._built(items[where][5])
            if best is not None:
                break
        else:
            return None
        item = items[where]
        bundles = best[1]
        if not any(b[1] or b[2] for b in bundles):
            return best
        left_bits, left_open = _side(items, where, -1)
        right_bits, right_open = _side(items, where, 1)
        if item[4]:                   # a repeat touches its own previous / next round
            left_bits |= item[2]
            right_bits |= item[1]
        out = []
        cost = 0
        for bundle in bundles:
            words, lo, ro, sub = bundle
            if sub or not (lo or ro):
                pass
            elif (lo and left_bits & _W) or (ro and right_bits & _W):
                bundle = (words, False, False, True)
            else:
                bundle = (words, lo and left_open, ro and right_open, False)
            out.append(bundle)
            cost += _cost(bundle[0], self.common, bundle[3], bundle[1] + bundle[2])
        return (cost, tuple(out))


class _Later:
    """A sequence whose words are worked out only if it is chosen (`_Analyser._resolved`)."""

    __slots__ = ("items",)

    def __init__(self, items):
        self.items = items


def _literal(run: str, common) -> tuple:
    """Literal text: every word in it must occur; the best-looking one is kept."""
    if run == " ":
        return _SPACE_ITEM
    if not run.isascii():
        raise _Unanalysable(run)
    first, last = _BITS[run[0]], _BITS[run[-1]]
    if run.isalnum() and run.islower():          # one word (the usual case)
        return (_ITEM, first, last, False, False,
                (_cost((run,), common, False, 2), (((run,), True, True, False),)))
    best = None
    text = run
    for ch in run:
        if ch not in _WORDISH and ch != " ":
            if ch not in ",'-":
                raise _Unanalysable(run)
            text = text.replace(ch, " ")
    parts = text.split(" ")
    last_index = len(parts) - 1
    for k, word in enumerate(parts):
        if word:
            score = (word in common, -len(word),
                     (k == 0) + (k == last_index))
            if best is None or score < best[0]:
                best = (score, word, k == 0, k == last_index)
    if best is None:
        return (_ITEM, first, last, False, False, None)
    _, word, lo, ro = best
    return (_ITEM, first, last, False, False,
            (_cost((word,), common, False, lo + ro), (((word,), lo, ro, False),)))


def _class_item(token: str) -> tuple:
    body = token[1:-1]
    if body.startswith("^") or "\\" in body:
        bits = _W | _N
    else:
        bits = 0
        k = 0
        while k < len(body):
            if k + 2 < len(body) and body[k + 1] == "-":
                lo, hi = body[k], body[k + 2]
                same = lo.isascii() and hi.isascii() and (
                    (lo.islower() and hi.islower()) or (lo.isdigit() and hi.isdigit())
                    or (lo.isupper() and hi.isupper()))
                bits |= _W if same else _W | _N
                k += 3
            else:
                bits |= _BITS.get(body[k], _W | _N)
                k += 1
    return (_ITEM, bits, bits, False, False, None)


def _escape_item(token: str) -> tuple:
    item = _ZERO_ITEMS.get(token)
    if item is not None:
        return item
    char = token[1]
    if char in "dw":
        return (_ITEM, _W, _W, False, False, None)
    if char in "sDWS":
        return _ANY_ITEM
    if char.isalnum():
        raise _Unanalysable(token)  # backreferences, \N{...}, \x..: not used by our data
    bits = _BITS.get(char, _W | _N)
    return (_ITEM, bits, bits, False, False, None)


def _quantified(item: tuple, quantifier: str) -> tuple:
    if item[0] != _ITEM:
        raise _Unanalysable(quantifier)
    q = quantifier.rstrip("?+") or quantifier[0]
    if q == "?":
        low, high = 0, 1
    elif q == "*":
        low, high = 0, 2
    elif q == "+":
        low, high = 1, 2
    else:
        low_text, comma, high_text = q[1:-1].partition(",")
        if not comma and not low_text:
            raise _Unanalysable(quantifier)
        low = int(low_text or 0)
        high = int(high_text) if high_text else (2 if comma else low)
    kind, first, last, nullable, repeats, best = item
    if low == 0:
        nullable, best = True, None
    return (kind, first, last, nullable, repeats or high > 1, best)


def _side(items, index, step):
    """(bits of the characters that may touch items[index] on one side, side undecided)."""
    barrier = _START if step < 0 else _END
    bits = 0
    k = index + step
    while 0 <= k < len(items):
        kind, first, last, nullable = items[k][:4]
        if kind == barrier or kind == _EDGE:
            return bits, False
        if kind == _ITEM:
            bits |= last if step < 0 else first
            if not nullable:
                return bits, False
        k += step
    return bits, True


def _prefilter(rules: _Rules) -> SimpleNamespace:
    """The patterns (top-level alternatives of the entries) and which words select them."""
    words = re.compile(r"[a-z0-9]+").findall
    common = _COMMON.union(words(rules.data["duration"]["symptom"]),
                           words(rules.data["ordinary_episode"]["context"]),
                           words(rules.macros.get("LIMB", "")),
                           ("_" + w for w in rules.stop_words or ()))
    if rules.stop_words is None:
        # Stop words that are not plain words: mark the sources as `_compile` does.
        stop = rules.stop
        mark = lambda s: stop.sub(lambda m: "_" + m.group(0), s)  # noqa: E731
        analyser = _Analyser({k: mark(v) for k, v in rules.macros.items()}, None, None,
                             common)
        entries = [mark(s) for s in rules.entries]
    else:
        analyser = _Analyser(rules.macros, rules.stop_words, lambda: rules.stop, common)
        entries = rules.entries
    sources: list[str] = []
    owners: list = []
    always = []
    index: dict[str, list[int]] = {}
    subs: dict[str, list[int]] = {}
    for entry, original, owner in zip(entries, rules.entries, rules.entry_owners):
        parts = analyser.split(entry)
        if rules.stop_words is None:
            parts = [(original, None)] if len(parts) > 1 else [(original, parts[0][1])]
        for source, found in parts:
            uid = len(sources)
            sources.append(source)
            owners.append(owner)
            if found is None:
                always.append(uid)
                continue
            for word in found[0]:
                index.setdefault(word, []).append(uid)
            for sub in found[1]:
                subs.setdefault(sub, []).append(uid)
    # The info phrases ("tell me") are matched against unmarked words.
    info = _Analyser(rules.macros, None, None, common).split(
        rules.data["questions"]["info_phrases"])
    info = None if any(found is None for _, found in info) else (
        frozenset().union(*(found[0] for _, found in info)),
        tuple(sub for _, found in info for sub in found[1]))
    of: dict = {}
    for uid, owner in enumerate(owners):
        of.setdefault(owner, []).append(uid)
    return SimpleNamespace(
        sources=tuple(sources), compiled=[None] * len(sources), owners=tuple(owners),
        of={owner: tuple(uids) for owner, uids in of.items()},
        flag_units=sum(isinstance(owner, int) for owner in owners), info=info,
        durations=frozenset(of.get("duration", ())),
        always=frozenset(always),
        index={w: tuple(u) for w, u in index.items()},
        subs=tuple((s, tuple(u)) for s, u in subs.items()))


def _unit(rules: _Rules, uid: int) -> re.Pattern:
    """Pattern `uid`, compiled on first use (as its own word-bounded alternation)."""
    compiled = rules.prefilter.compiled
    regex = compiled[uid]
    if regex is None:
        regex = compiled[uid] = _rx(rules, rules.prefilter.sources[uid])
    return regex


def _selected(pre: SimpleNamespace, norm: str, words) -> set[int]:
    """Patterns that may match `norm` (whose words are `words`)."""
    active = set(pre.always) if pre.always else set()
    index = pre.index
    for word in words:
        uids = index.get(word)
        if uids:
            active.update(uids)
    for sub, uids in pre.subs:
        if sub in norm:
            active.update(uids)
    return active


def _cut_in_word(norm: str, end: int) -> bool:
    """A search ending at `end` would see a word of `norm` cut short (not a word of it)."""
    return 0 < end < len(norm) and norm[end] != " " and norm[end - 1] != " "


def _owned(rules: _Rules, owner, norm: str, active, end: int | None = None) -> list[int]:
    """The owner's patterns the text selected (all of them when `end` cuts a word)."""
    uids = rules.prefilter.of[owner]
    if end is not None and _cut_in_word(norm, end):
        return list(uids)
    return [uid for uid in uids if uid in active]


def _matches(rules: _Rules, uids, norm: str, owner, lo: int = 0, hi: int | None = None):
    """`finditer` over the alternation of patterns `uids` (ascending), as one regex would."""
    if hi is None:
        hi = len(norm)
    if len(uids) == 1:
        return _unit(rules, uids[0]).finditer(norm, lo, hi)
    return _merged(rules, uids, norm, owner, lo, hi)


def _merged(rules: _Rules, uids, norm: str, owner, lo: int, hi: int):
    """One regex tries its alternatives in order at each position, leftmost position
    first: so its next match is the leftmost of the patterns' next matches, the earlier
    pattern on a tie. An empty match (none of ours is) is left to the one regex itself."""
    regexes = [_unit(rules, uid) for uid in uids]
    pending = [regex.search(norm, lo, hi) for regex in regexes]
    while True:
        best = None
        for match in pending:
            if match is not None and (best is None or match.start() < best.start()):
                best = match
        if best is None:
            return
        pos = best.end()
        if pos == best.start():
            yield from _combined(rules, owner).finditer(norm, pos, hi)
            return
        yield best
        pending = [m if m is None or m.start() >= pos else regex.search(norm, pos, hi)
                   for m, regex in zip(pending, regexes)]


def _combined(rules: _Rules, owner) -> re.Pattern:
    """A flag's or group's entries as the one regex red_flags.json describes."""
    regex = rules.combined.get(owner)
    if regex is None:
        entries = [e for e, o in zip(rules.entries, rules.entry_owners) if o == owner]
        regex = rules.combined[owner] = _rx(rules, entries)
    return regex


def _search(rules: _Rules, owner, norm: str, active, lo: int, hi: int):
    """The first match of the owner's alternation within norm[lo:hi], or None."""
    uids = _owned(rules, owner, norm, active, hi)
    if not uids:
        return None
    return next(_matches(rules, uids, norm, owner, lo, hi), None)


def _aligned(norm: str, lo: int, hi: int) -> bool:
    """norm[lo:hi] cuts no word of `norm` (so its words are some of norm's)."""
    size = len(norm)
    return (lo <= 0 or lo >= size or norm[lo - 1] == " " or norm[lo] == " ") and \
        (hi <= 0 or hi >= size or norm[hi] == " " or norm[hi - 1] == " ")


def _found_in(rules: _Rules, owner, text: str, norm: str, active, aligned: bool) -> bool:
    """Does the owner's alternation match `text`, a piece of `norm` (`aligned`: on words)?"""
    uids = rules.prefilter.of[owner]
    for uid in uids:
        if (uid in active or not aligned) and _unit(rules, uid).search(text):
            return True
    return False


def _finditer(rules: _Rules, owner, norm: str, active, lo: int, hi: int):
    uids = _owned(rules, owner, norm, active, hi)
    return _matches(rules, uids, norm, owner, lo, hi) if uids else ()


# ------------------------------------------------------------------------- normalizing

class _TextRx(_Lazy):
    """Character-level clean-up patterns, each compiled on first use (not at import)."""

    _builders = {
        "apostrophes": lambda _: re.compile(r"['’‘`´ʼ′]"),
        "abbreviation": lambda _: re.compile(r"\b((?:[a-z]\.){2,})"),
        "decimal": lambda _: re.compile(r"(\d)[.,](\d)"),
        "sentence_punct": lambda _: re.compile(r"[.!?;:\n\r…]+"),
        "other": lambda _: re.compile(r"[^a-z0-9., ]+"),
        "repeats": lambda _: re.compile(r"([a-z])\1{2,}"),
        "dots": lambda _: re.compile(r"(?: \.)+"),
        "clause_split": lambda _: re.compile(
            r"\b_?(?:but|however|although|though|yet|now|whereas|except)\b"),
    }


@functools.cache
def _text_rx() -> _TextRx:
    return _TextRx()


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
    return " ".join(_words(text[:MAX_CHARS], keep_doubles))


def _words(text: str, keep_doubles: bool, doubled: bool = True) -> list[str]:
    """`normalize` as a list of words ("." and "," included); joined by spaces, it is it.

    `doubled=False` promises that text.casefold() has no letter typed three times.
    """
    rx = _text_rx()
    rules = _rules()
    simple = False
    if text.isascii():
        # NFKD leaves ASCII alone, and its only Mn/Cf/Cc characters are the controls.
        if text.isprintable():
            text = text.lower()
            # Only letters, digits and spaces (after dropping apostrophes): every step up
            # to the squeezing of repeated letters would leave the text as it is.
            if text.replace(" ", "").isalnum():
                simple = "same"
            elif "'" in text:
                dropped = text.replace("'", "")
                if dropped.replace(" ", "").isalnum():
                    text, simple = dropped, True
        else:
            text = "".join(ch for ch in text if ch in "\n\r"
                           or unicodedata.category(ch) not in ("Mn", "Cf", "Cc"))
            text = text.lower()
    else:
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Mn", "Cf", "Cc")
                       or ch in "\n\r")
        text = text.casefold()
    if not simple:
        if not text.isascii() or "'" in text or "`" in text:
            text = rx.apostrophes.sub("", text)
        if "." in text:
            text = rx.abbreviation.sub(lambda m: m.group(1).replace(".", ""), text)
        if "." in text or "," in text:
            text = rx.decimal.sub(r"\1\2", text)
        text = text.replace("&", " and ")
        text = rx.sentence_punct.sub(" . ", text)
        text = text.replace(",", " , ")
        text = rx.other.sub(" ", text)
    if doubled or simple != "same":
        text = rx.repeats.sub(r"\1\1" if keep_doubles else r"\1", text)
    # Only spaces are left between words now: split() is " +" -> " " and strip().
    words = text.split()
    if rules.replace_words is None:
        text = rules.replace_regex.sub(lambda m: rules.replacements[m.group(0)],
                                       " ".join(words))
        text = rx.dots.sub(" .", text).strip(" .,")
        return text.split(" ") if text else []
    words = _replace(words, rules)
    # (?: \.)+ -> " ." and strip(" .,"), on words: runs of "." collapse, ends are trimmed.
    if "." in words:
        words = [w for k, w in enumerate(words) if w != "." or k == 0 or words[k - 1] != "."]
    start, end = 0, len(words)
    while start < end and words[start] in (".", ","):
        start += 1
    while end > start and words[end - 1] in (".", ","):
        end -= 1
    return words[start:end] if start or end < len(words) else words


def _replace(words: list[str], rules: _Rules) -> list[str]:
    """The "normalize" replacements, whole words, longest first (as the regex would)."""
    table = rules.replace_words
    heads = rules.replace_heads
    keys = rules.replace_keys
    if keys.isdisjoint(words):
        return words
    hits = [k for k, word in enumerate(words) if word in keys]
    out: list[str] = []
    done, n = 0, len(words)
    for k in hits:
        if k < done:
            continue                      # inside a replaced phrase
        out += words[done:k]
        word = words[k]
        new, width = None, 1
        if word in heads:
            for span in range(min(rules.replace_width, n - k), 1, -1):
                new = table.get(" ".join(words[k:k + span]))
                if new is not None:
                    width = span
                    break
        if new is None:
            new = table.get(word)
        if new is None:
            out.append(word)
        else:
            out += new
        done = k + width
    out += words[done:]
    return out


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
    doubled = _text_rx().repeats.search(text.casefold()) is not None
    result = _assess_plain(text, _words(text, False, doubled), question_hint)
    if doubled:  # "droooping": squeezed to one letter it is lost
        result = more_serious(result, _assess_plain(text, _words(text, True), question_hint))
    return result


def _assess_plain(text: str, words: list[str], question_hint: bool | None) -> Assessment:
    if not words:
        return Assessment()
    rules = _rules()
    plain = " ".join(words)
    if question_hint is None:
        question = "?" in text or _starts_as_question(plain, words, rules)
    else:
        question = bool(question_hint)
    personal = _is_personal(plain, words, rules)
    stop = rules.stop_words
    if stop is not None:
        marked = [("_" + w) if w in stop else w for w in words]
        norm = " ".join(marked)
    else:
        norm = _mark(plain, rules)
        marked = norm.split(" ")
    active = _selected(rules.prefilter, norm, marked)
    found: dict[str, None] = {}
    negated: dict[str, None] = {}

    # The selected flag patterns, in order, a run per flag (flags in red_flags.json order).
    pre = rules.prefilter
    limit = pre.flag_units
    flag_units = sorted(active)
    while flag_units and flag_units[-1] >= limit:   # (the other patterns come after)
        flag_units.pop()
    owners = pre.owners
    k, n = 0, len(flag_units)
    while k < n:
        index = owners[flag_units[k]]
        j = k + 1
        while j < n and owners[flag_units[j]] == index:
            j += 1
        flag = rules.flags[index]
        for match in _matches(rules, flag_units[k:j], norm, index):
            start, end = match.span()
            if _negated(norm, start, end, rules, question, active):
                negated[flag.id] = None
                continue
            if flag.brief_suppressed and _in_clause(norm, start, end, rules, "brief", active):
                continue
            if flag.trigger_suppressed and \
                    _in_sentence(norm, start, end, rules, "triggers", active):
                continue
            if flag.id in rules.ordinary_flags and rules.ordinary_past.match(match.group(0)) \
                    and _in_clause(norm, start, end, rules, "ordinary_context", active):
                continue
            found[flag.id] = None
            break
        k = j

    if not pre.durations.isdisjoint(active):
        for flag_id in _duration_flags(norm, rules, active):
            found[flag_id] = None

    if rules.unspaced:
        squeezed = "".join(words)
        if rules.unspaced_any.search(squeezed):
            for flag_id, stem in rules.unspaced:
                if stem in squeezed and flag_id not in found and flag_id not in negated:
                    found[flag_id] = None

    if question and not personal:
        for flag_id in rules.question_sensitive:
            found.pop(flag_id, None)

    if not found:
        return Assessment(NONE, (), tuple(negated), question, personal)
    flags = sorted(found, key=rules.flag_rank.__getitem__) if len(found) > 1 else found
    return Assessment(rules.levels[next(iter(flags))], flags,
                      tuple(f for f in negated if f not in found), question, personal)


def _starts_as_question(plain: str, words: list[str], rules: _Rules) -> bool:
    """questions["starts"] matches at the start ("what", "tell me", ...)."""
    starts = rules.question_starts
    if starts is None:
        return rules.question_start.match(plain) is not None
    for width in range(1, min(rules.question_width, len(words)) + 1):
        if " ".join(words[:width]) in starts:
            return True
    return False


def _mark(plain: str, rules: _Rules) -> str:
    """Prefix stop words with "_" (not -> _not): word gaps in patterns cannot cross them.

    Doing this once per text, instead of a negative lookahead in every gap, halves the
    time needed to compile the patterns (cold start). (`_assess_plain` does the same word
    by word when the stop words are plain words, as they are.)
    """
    return rules.stop.sub(lambda m: "_" + m.group(0), plain)


def _is_personal(plain: str, words: list[str], rules: _Rules) -> bool:
    """Talking about someone rather than asking about a topic ("tell me" does not count)."""
    if rules.personal.isdisjoint(words):
        return False   # removing phrases only removes words
    info = rules.prefilter.info
    if info is not None and info[0].isdisjoint(words) and \
            not any(sub in plain for sub in info[1]):
        return True    # no phrase can match: nothing is removed
    stripped = rules.info_phrases.sub(" ", plain)
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


def _in_sentence(norm: str, start: int, end: int, rules: _Rules, group: str, active) -> bool:
    s_start, s_end = _sentence_bounds(norm, start, end)
    return _search(rules, group, norm, active, s_start, s_end) is not None


def _in_clause(norm: str, start: int, end: int, rules: _Rules, group: str, active) -> bool:
    c_start, c_end = _clause_bounds(norm, start, end)
    return _search(rules, group, norm, active, c_start, c_end) is not None


def _negated(norm: str, start: int, end: int, rules: _Rules, question: bool,
             active) -> bool:
    """Clear negation only; uncertainty or a change of subject means "not negated"."""
    c_start, _ = _clause_bounds(norm, start, end)
    before = norm[c_start:start]
    aligned = _aligned(norm, c_start, start)   # (it is: clauses and matches start at words)
    last_comma = before.rfind(",")
    hedge_zone = before[last_comma + 1:] if last_comma >= 0 else before
    if _found_in(rules, "uncertain", hedge_zone, norm, active, aligned):
        return False
    words = before.split()
    window: list[str] = []
    for word in reversed(words):
        if word.lstrip("_") in rules.breakers or len(window) >= rules.window:
            break
        window.append(word)
    if window and _found_in(rules, "negation_cue", " ".join(reversed(window)), norm, active,
                            aligned):
        return True
    if not question and rules.after_fine.match(norm, end):
        return True
    return False


def _duration_flags(norm: str, rules: _Rules, active) -> list[str]:
    """Long durations that describe the symptom -> continuous numbness (or recurring)."""
    out: list[str] = []
    uids = _owned(rules, "duration", norm, active)
    if not uids:
        return out
    for match in _matches(rules, uids, norm, "duration"):
        start, end = match.span()
        before_word = norm[:start].rsplit(" ", 2)[-1].lstrip("_") if start else ""
        if before_word in rules.duration_exclude_before:
            continue
        s_start, s_end = _sentence_bounds(norm, start, end)
        decider = _nearest_before(norm, s_start, start, rules, active)
        if decider is None:
            decider = _first_after(norm, end, s_end, rules, active)
        if decider is not None:
            kind, d_start = decider
            if kind != "symptom":
                continue
            if _negated(norm, d_start, end, rules, False, active):
                continue
        if rules.long_units.search(match.group(0)) and \
                _search(rules, "recurrence", norm, active, s_start, s_end) is not None:
            flag = "recurring"
        else:
            flag = "continuous_numbness"
        if flag not in out:
            out.append(flag)
        if "continuous_numbness" in out:
            break
    return out


def _nearest_before(norm: str, lo: int, hi: int, rules: _Rules, active):
    """The closest symptom/activity/subject word before a duration: it says what lasted."""
    best = None  # (end, priority, kind, start)
    for kind, priority in (("symptom", 0), ("subject", 1), ("activity", 2)):
        for m in _finditer(rules, kind, norm, active, lo, hi):
            key = (m.end(), priority)
            if best is None or key > best[:2]:
                best = (m.end(), priority, kind, m.start())
    return None if best is None else (best[2], best[3])


def _first_after(norm: str, lo: int, hi: int, rules: _Rules, active):
    best = None
    for kind in ("symptom", "activity"):
        m = _search(rules, kind, norm, active, lo, hi)
        if m and (best is None or m.start() < best[1]):
            best = (kind, m.start())
    return best
