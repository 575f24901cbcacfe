"""Movement reminders: what was asked for, the recurring schedule it becomes, what to say.

The article's first prevention advice is "Aim to stand up and walk around every 30 to 60
minutes." This module turns a request ("remind me to get up every 45 minutes from 8 to 4")
into a `Schedule` (interval, time window, days), the Alexa Reminders API recurrence rules
for it, and the replies. It is plain Python: the Alexa layer
(`skill/alexa/reminder_handlers.py`) calls the API through the SDK's service clients and
hands what it found back here as plain dicts.

Why the shapes are what they are (details and sources in docs/reminders.md):
- the interval is kept to what the article says (30 to 60 minutes, in 15-minute steps:
  30, 45 or 60); anything else is rounded into range and the article's sentence explains
  why;
- one reminder carries the whole schedule as RFC 5545 rules, one rule per minute of the
  hour ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=10,11,...;BYMINUTE=0;..."), so 15-minute
  steps need at most four rules; more rules than `max_rules_per_reminder` would be split
  over several reminders;
- nothing is created twice: `plan` compares what the API already holds with what is
  wanted, so running the same request again (a retry, a repeated question, a create that
  timed out after it succeeded) keeps what matches and creates only what is missing.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from skill.datafiles import read_json
from skill.dialog import ssml
from skill.dialog.reply import Reply

PERSISTENT_KEY = "reminders"  # long-term memory slice: {"settings": {...}, "done": {...}}
DAYS_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@functools.cache
def data() -> dict:
    return read_json(__file__, "reminders.json")


def prompt(key: str, **values) -> str:
    return data()["prompts"][key].format(**values)


def reminder_text() -> str:
    """What Alexa says when a reminder goes off: the article's own words."""
    return data()["reminder_text"]


# ------------------------------------------------------------------------ numbers in words

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
         "seventy": 70, "eighty": 80, "ninety": 90}
_ISO_DURATION = re.compile(
    r"^P(?:(\d+)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def _words(text: str) -> list[str]:
    text = text.lower().replace("-", " ").replace(".", " ")
    return re.findall(r"[a-z]+|\d+(?::\d+)?", text)


def _number(words: list[str]) -> tuple[float | None, list[str]]:
    """A leading number in words or digits ("forty five", "45", "an", "a couple of")."""
    if not words:
        return None, words
    first = words[0]
    if first.isdigit():
        return float(first), words[1:]
    if first in ("a", "an", "one"):
        rest = words[1:]
        if rest[:2] == ["couple", "of"]:
            return 2.0, rest[2:]
        if rest[:1] == ["couple"]:
            return 2.0, rest[1:]
        if rest[:1] == ["few"]:
            return 3.0, rest[1:]
        return 1.0, rest
    if first == "couple":
        return 2.0, words[2:] if words[1:2] == ["of"] else words[1:]
    if first in _TENS:
        value = _TENS[first]
        if len(words) > 1 and words[1] in _UNITS and 0 < _UNITS[words[1]] < 10:
            return float(value + _UNITS[words[1]]), words[2:]
        return float(value), words[1:]
    if first in _UNITS:
        return float(_UNITS[first]), words[1:]
    return None, words


def parse_duration(text: str | None) -> int | None:
    """Minutes in an AMAZON.DURATION value ("PT45M", "PT1H30M") or in words as typed into
    the simulator ("forty five minutes", "an hour and a half", "half an hour", "hour")."""
    if not text or not text.strip():
        return None
    match = _ISO_DURATION.match(text.strip().upper())
    if match and any(match.groups()):
        days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
        total = days * 1440 + hours * 60 + minutes + seconds / 60
        return round(total) if total > 0 else None
    words = [w for w in _words(text) if w not in ("every", "each", "or", "so", "about",
                                                   "roughly", "around", "other")]
    if not words:
        return None
    if words[:2] in (["half", "an"], ["half", "a"]) and words[2:3] == ["hour"]:
        return 30
    if words[:2] == ["half", "hour"]:
        return 30
    if "quarter" in words and "hour" in words:
        return 15
    total = 0.0
    found = False
    while words:
        value, rest = _number(words)
        if value is None:
            value, rest = 1.0, words  # "hour", "minutes": a bare unit is one of it
        if not rest:
            break
        unit, rest = rest[0], rest[1:]
        if unit.startswith("hour") or unit in ("hr", "hrs"):
            total += value * 60
            found = True
        elif unit.startswith("min"):
            total += value
            found = True
        else:
            words = rest
            continue
        if rest[:3] in (["and", "a", "half"], ["and", "an", "half"]) or rest[:2] == ["and", "half"]:
            total += 30 if unit.startswith("hour") else 0.5
            rest = rest[3:] if rest[1] in ("a", "an") else rest[2:]
        if rest[:1] == ["and"]:
            rest = rest[1:]
        words = rest
    return round(total) if found and total > 0 else None


def parse_clock(text: str | None) -> tuple[int, bool] | None:
    """(minutes after midnight, whether AM/PM was explicit) for an AMAZON.TIME value
    ("09:00", "17:30") or words ("nine", "five thirty", "half past nine", "5 pm", "noon")."""
    if not text or not text.strip():
        return None
    raw = text.strip()
    match = re.fullmatch(r"T?(\d{1,2}):(\d{2})(?::\d{2})?", raw)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        explicit = hour == 0 or hour > 12  # Alexa sends "05:00" for a bare "five"
        return (hour * 60 + minute, explicit) if hour < 24 and minute < 60 else None
    words = _words(raw)
    if words in (["noon"], ["midday"], ["twelve", "noon"]):
        return 12 * 60, True
    meridiem = None
    if words[-2:] in (["a", "m"], ["p", "m"]):
        meridiem, words = words[-2], words[:-2]
    elif words[-1:] in (["am"], ["pm"]):
        meridiem, words = words[-1][0], words[:-1]
    elif words[-2:] in (["in", "morning"], ["in", "afternoon"], ["in", "evening"]):
        meridiem, words = ("a" if words[-1] == "morning" else "p"), words[:-3 if words[-3:-2] == ["the"] else -2]
    words = [w for w in words if w not in ("o", "clock", "oclock", "at")]
    minute = 0
    if len(words) >= 3 and words[1] in ("past", "to") and words[0] in ("half", "quarter"):
        offset = 30 if words[0] == "half" else 15
        hour_value, _ = _number(words[2:])
        if hour_value is None:
            return None
        hour = int(hour_value)
        minute = offset if words[1] == "past" else 60 - offset
        hour = hour if words[1] == "past" else hour - 1
    else:
        if len(words) == 1 and re.fullmatch(r"\d{1,2}:\d{2}", words[0]):
            hour, minute = (int(p) for p in words[0].split(":"))
        else:
            hour_value, rest = _number(words)
            if hour_value is None:
                return None
            hour = int(hour_value)
            if rest:
                minute_value, rest = _number(rest)
                if minute_value is None or rest:
                    return None
                minute = int(minute_value)
    if not (0 <= hour <= 23 and 0 <= minute < 60):
        return None
    if meridiem == "p" and hour < 12:
        hour += 12
    elif meridiem == "a" and hour == 12:
        hour = 0
    return hour * 60 + minute, meridiem is not None or hour > 12


def _clock(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


# ------------------------------------------------------------------------------- schedule

@dataclass(frozen=True)
class Schedule:
    """Reminders every `interval` minutes, from `start` + interval to `end` (minutes after
    midnight, local time), on the `days` set ("weekdays", "every_day", "weekends")."""

    interval: int
    start: int
    end: int
    days: str

    @classmethod
    def default(cls) -> "Schedule":
        d = data()
        return cls(d["interval"]["default_minutes"], _clock(d["window"]["default_start"]),
                   _clock(d["window"]["default_end"]), d["days"]["default"])

    @classmethod
    def from_dict(cls, value) -> "Schedule | None":
        """A schedule from memory, or None when it is not one we would have written."""
        try:
            schedule = cls(int(value["interval"]), int(value["start"]), int(value["end"]),
                           str(value["days"]))
        except (TypeError, KeyError, ValueError):
            return None
        return schedule if schedule.valid() else None

    def to_dict(self) -> dict:
        return {"interval": self.interval, "start": self.start, "end": self.end,
                "days": self.days}

    def valid(self) -> bool:
        return (self.interval in data()["interval"]["allowed_minutes"]
                and 0 <= self.start < self.end < 24 * 60
                and self.end - self.start >= self.interval
                and self.days in data()["days"]["sets"])

    def times(self) -> list[int]:
        """Every reminder time of a day: one interval after the start, up to the end."""
        return list(range(self.start + self.interval, self.end + 1, self.interval))

    def rules(self) -> list[str]:
        """The recurrence rules: one per minute of the hour, with every hour it falls in."""
        codes = data()["days"]["sets"][self.days]
        by_minute: dict[int, list[int]] = {}
        for moment in self.times():
            by_minute.setdefault(moment % 60, []).append(moment // 60)
        head = ("FREQ=DAILY" if len(codes) == 7 else "FREQ=WEEKLY;BYDAY=" + ",".join(codes))
        return [f"{head};BYHOUR={','.join(map(str, hours))};BYMINUTE={minute};BYSECOND=0;"
                "INTERVAL=1" for minute, hours in sorted(by_minute.items())]

    def reminders(self) -> list["ReminderSpec"]:
        """The reminders to create: the rules, at most `max_rules_per_reminder` each."""
        size = data()["max_rules_per_reminder"]
        rules = self.rules()
        return [ReminderSpec(tuple(rules[i:i + size]), reminder_text())
                for i in range(0, len(rules), size)]


@dataclass(frozen=True)
class ReminderSpec:
    """One reminder as the API holds it, reduced to what makes it ours and what it does."""

    rules: tuple[str, ...]
    text: str

    def key(self) -> tuple:
        return (frozenset(self.rules), " ".join(self.text.split()))


@dataclass(frozen=True)
class Existing:
    """A reminder the API already holds (from "get all reminders"), as plain values."""

    token: str
    status: str
    rules: tuple[str, ...] = ()
    text: str = ""

    def spec(self) -> ReminderSpec:
        return ReminderSpec(tuple(self.rules), self.text)


@dataclass
class Request:
    """What the person asked for, made into a schedule, with what had to be adjusted."""

    schedule: Schedule
    asked_minutes: int | None = None  # the interval asked for, when it was rounded
    window_kept: bool = False  # the window asked for did not work; the old one was kept


@dataclass
class Plan:
    """What to do against the API so that exactly `wanted` exists afterwards."""

    create: list[ReminderSpec] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    kept: int = 0

    @property
    def nothing_to_do(self) -> bool:
        return not self.create and not self.delete


def understand(interval: str | None = None, start: str | None = None, end: str | None = None,
               days: str | None = None, saved: dict | None = None) -> Request:
    """The schedule for a request; what was not said comes from `saved` (the last schedule
    set), then the defaults. `days` is a REMINDER_DAYS id (or its spoken value)."""
    base = Schedule.from_dict(saved) if saved else None
    base = base or Schedule.default()
    cfg = data()
    allowed = cfg["interval"]["allowed_minutes"]
    minutes = base.interval
    asked = None
    heard = parse_duration(interval)
    if heard is not None:
        minutes = min(allowed, key=lambda m: (abs(m - heard), -m))
        if minutes != heard:
            asked = heard
    day_set = _days_id(days) or base.days
    window = _window(start, end, base)
    request = Request(Schedule(minutes, base.start, base.end, day_set), asked)
    if window is not None:
        candidate = Schedule(minutes, window[0], window[1], day_set)
        if candidate.valid():
            request.schedule = candidate
        else:
            request.window_kept = True
    if not request.schedule.valid():  # the old window is too short for a longer interval
        default = Schedule.default()
        request.schedule = Schedule(minutes, default.start, default.end, day_set)
        request.window_kept = True
    return request


def _days_id(value: str | None) -> str | None:
    if not value:
        return None
    key = value.strip().lower().replace(" ", "_")
    if key in data()["days"]["sets"]:
        return key
    words = set(_words(value))
    if words & {"weekend", "weekends", "saturday", "sunday"}:
        return "weekends"
    if words & {"daily", "every", "all", "seven"}:
        return "every_day"
    if words & {"weekdays", "weekday", "work", "working", "workdays", "monday", "friday",
                "week"}:
        return "weekdays"
    return None


def _window(start: str | None, end: str | None, base: Schedule) -> tuple[int, int] | None:
    """(start, end) in minutes from the two time slots, or None when neither was said."""
    periods = data()["window"]["periods"]
    for value in (start, end):
        if value and value.strip() and (value.strip() in periods
                                        or value.strip().lower() in periods):
            first, last = periods.get(value.strip()) or periods[value.strip().lower()]
            return _clock(first), _clock(last)
    begin = parse_clock(start)
    finish = parse_clock(end)
    if begin is None and finish is None:
        return None
    pm_guess = set(data()["window"]["pm_guess_hours"])
    begin_minutes = base.start
    if begin is not None:
        begin_minutes, explicit = begin
        if not explicit and begin_minutes // 60 in pm_guess:
            begin_minutes += 12 * 60
    end_minutes = base.end
    if finish is not None:
        end_minutes, explicit = finish
        if not explicit and (end_minutes // 60 in pm_guess or end_minutes <= begin_minutes) \
                and end_minutes < 12 * 60:
            end_minutes += 12 * 60
    return begin_minutes, end_minutes


def plan(existing: list[Existing], wanted: list[ReminderSpec]) -> Plan:
    """Keep what already matches, create what is missing, delete every other active one.

    Every reminder this skill can see is one it created (the API shows a skill only its
    own), so an active reminder that is not part of the wanted schedule is an old
    schedule and goes. Running `plan` again after it was carried out gives nothing to do.
    """
    result = Plan()
    needed = {spec.key(): spec for spec in wanted}
    for reminder in existing:
        if reminder.status != "ON":
            continue
        key = reminder.spec().key()
        if key in needed:
            needed.pop(key)
            result.kept += 1
        else:
            result.delete.append(reminder.token)
    result.create = list(needed.values())
    return result


def active(existing: list[Existing]) -> list[Existing]:
    return [r for r in existing if r.status == "ON"]


def schedule_of(existing: list[Existing]) -> Schedule | None:
    """The schedule that active reminders add up to, when they are ours and consistent."""
    moments: set[int] = set()
    day_sets: set[tuple[str, ...]] = set()
    for reminder in active(existing):
        for rule in reminder.rules:
            parts = dict(p.split("=", 1) for p in rule.strip(";").split(";") if "=" in p)
            try:
                hours = [int(h) for h in parts["BYHOUR"].split(",")]
                minutes = [int(m) for m in parts.get("BYMINUTE", "0").split(",")]
            except (KeyError, ValueError):
                return None
            codes = (DAYS_CODES if parts.get("FREQ") == "DAILY"
                     else tuple(parts.get("BYDAY", "").split(",")))
            day_sets.add(tuple(sorted(codes, key=_day_order)))
            moments.update(h * 60 + m for h in hours for m in minutes)
    if not moments or len(day_sets) != 1:
        return None
    wanted_codes = day_sets.pop()
    days = next((name for name, codes in data()["days"]["sets"].items()
                 if tuple(codes) == wanted_codes), None)
    ordered = sorted(moments)
    gaps = {b - a for a, b in zip(ordered, ordered[1:])}
    interval = gaps.pop() if len(gaps) == 1 else (None if gaps else data()["interval"]["default_minutes"])
    if days is None or interval is None:
        return None
    return Schedule(interval, ordered[0] - interval, ordered[-1], days)


def _day_order(code: str) -> int:
    return DAYS_CODES.index(code) if code in DAYS_CODES else 99


# --------------------------------------------------------------------------------- speech

def spoken_interval(minutes: int) -> str:
    if minutes == 60:
        return "every hour"
    if minutes % 60 == 0:
        return f"every {minutes // 60} hours"
    return f"every {minutes} minutes"


def spoken_time(minutes: int) -> str:
    hour, minute = divmod(minutes, 60)
    suffix = "AM" if hour < 12 else "PM"
    hour = hour % 12 or 12
    return f"{hour} {suffix}" if minute == 0 else f"{hour}:{minute:02d} {suffix}"


def _schedule_words(schedule: Schedule) -> dict[str, str]:
    times = schedule.times()
    return {"interval": spoken_interval(schedule.interval), "first": spoken_time(times[0]),
            "last": spoken_time(times[-1]), "days": data()["days"]["spoken"][schedule.days]}


def _reply(text: str, one_shot: bool) -> Reply:
    """End a one-shot request; in a running session, ask what next."""
    if one_shot:
        return Reply(ssml.escape(text), card_title=prompt("card_title"), card_text=text,
                     end_session=True)
    follow = prompt("anything_else")
    return Reply(ssml.escape(f"{text} {follow}"), reprompt=ssml.escape(prompt("reprompt")),
                 card_title=prompt("card_title"), card_text=text)


def confirmation(request: Request, plan_done: Plan, one_shot: bool) -> Reply:
    """What was set, when, and how to stop it (after the article's advice when the interval
    asked for was outside the article's range)."""
    words = _schedule_words(request.schedule)
    parts = []
    if request.asked_minutes is not None:
        parts.append(prompt("adjusted", advice=data()["advice"], interval=words["interval"]))
    elif request.window_kept:  # one note at most: the confirmation says the window anyway
        parts.append(prompt("window_kept", first=spoken_time(request.schedule.start),
                            last=spoken_time(request.schedule.end)))
    key = "already_set" if plan_done.nothing_to_do else "confirm"
    if key == "confirm" and not parts:
        parts.append(prompt("confirm_lead"))
    parts.append(prompt(key, **words))
    return _reply(" ".join(parts), one_shot)


def listing(existing: list[Existing], one_shot: bool) -> Reply:
    reminders = active(existing)
    if not reminders:
        return _reply(prompt("none_listed"), one_shot)
    schedule = schedule_of(reminders)
    if schedule is None:
        return _reply(prompt("listed_other", count=len(reminders)), one_shot)
    return _reply(prompt("listed", **_schedule_words(schedule)), one_shot)


def stopped(count: int, one_shot: bool) -> Reply:
    return _reply(prompt("stopped" if count else "none_to_stop"), one_shot)


def said(key: str, one_shot: bool, *, end: bool | None = None) -> Reply:
    """A fixed line (an error, a permission answer); `end` forces the session's fate."""
    return _reply(prompt(key), one_shot if end is None else end)


ERROR_PROMPTS = {"permission": "error_permission", "too_many": "error_too_many",
                 "unsupported": "error_unsupported", "timeout": "error_timeout",
                 "unknown": "error_unknown"}


def error(kind: str, one_shot: bool) -> Reply:
    """The spoken answer to an API failure of `kind` (see `ERROR_PROMPTS`)."""
    return _reply(prompt(ERROR_PROMPTS.get(kind, "error_unknown")), one_shot)
