"""Movement reminders, the dialog side: what a request becomes, and what is said.

No Alexa here: `skill.dialog.reminders` is plain Python. The API side (real HTTP to the
loopback stand-in, through lambda_handler) is in test_reminders_api.py.
"""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skill.content import is_verbatim_excerpt
from skill.dialog import reminders, ssml
from skill.dialog.reminders import Existing, Schedule, parse_clock, parse_duration, understand


def test_what_a_reminder_says_is_the_articles_own_words():
    assert reminders.reminder_text() == ("Aim to stand up and walk around every 30 to 60 "
                                         "minutes. This simple act increases blood flow to "
                                         "the legs.")
    assert is_verbatim_excerpt(reminders.reminder_text())
    assert is_verbatim_excerpt(reminders.data()["advice"])


@pytest.mark.parametrize("value,minutes", [
    ("PT1H", 60), ("PT45M", 45), ("PT30M", 30), ("PT2H", 120), ("PT1H30M", 90),
    ("PT90M", 90), ("PT0.5H", 30), ("hour", 60), ("an hour", 60), ("half an hour", 30),
    ("half hour", 30), ("forty five minutes", 45), ("ninety minutes", 90),
    ("two hours", 120), ("an hour and a half", 90), ("couple of hours", 120),
    ("hour mate", 60), ("45 minutes", 45), ("fifteen minutes", 15),
])
def test_durations_as_alexa_sends_them_and_as_typed(value, minutes):
    assert parse_duration(value) == minutes


@pytest.mark.parametrize("value", [None, "", "   ", "PT0M", "soon", "blah blah", "P"])
def test_what_is_not_a_duration(value):
    assert parse_duration(value) is None


@pytest.mark.parametrize("value,minutes", [
    ("09:00", 540), ("17:30", 1050), ("nine", 540), ("five thirty", 330),
    ("half past nine", 570), ("quarter to five", 285), ("5 pm", 1020), ("nine am", 540),
    ("noon", 720), ("eight o clock", 480),
])
def test_clock_times(value, minutes):
    assert parse_clock(value)[0] == minutes


@pytest.mark.parametrize("interval,expected,asked", [
    ("PT30M", 30, None), ("PT45M", 45, None), ("PT1H", 60, None),
    ("PT2H", 60, 120), ("PT90M", 60, 90), ("PT15M", 30, 15), ("PT5M", 30, 5),
    ("PT40M", 45, 40), ("PT50M", 45, 50), ("PT35M", 30, 35), ("PT55M", 60, 55),
])
def test_the_interval_is_kept_to_the_articles_30_to_60_minutes(interval, expected, asked):
    request = understand(interval=interval)
    assert request.schedule.interval == expected
    assert request.asked_minutes == asked


def test_defaults_are_hourly_nine_to_five_on_weekdays():
    schedule = understand().schedule
    assert schedule == Schedule(60, 9 * 60, 17 * 60, "weekdays")
    assert [t // 60 for t in schedule.times()] == [10, 11, 12, 13, 14, 15, 16, 17]
    assert schedule.rules() == ["FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=10,11,12,13,14,15,"
                                "16,17;BYMINUTE=0;BYSECOND=0;INTERVAL=1"]


@pytest.mark.parametrize("start,end,window", [
    ("09:00", "05:00", (540, 1020)),   # Alexa's "05:00" for a bare "five" means 5 PM here
    ("nine", "five", (540, 1020)),
    ("08:00", "16:00", (480, 960)),
    ("eight", "four", (480, 960)),
    ("one", "five", (780, 1020)),
    ("AF", None, (720, 1020)),          # AMAZON.TIME's "afternoon"
    ("afternoon", None, (720, 1020)),
    ("MO", None, (540, 720)),
    (None, "three", (540, 900)),        # only the end: the start stays
])
def test_time_windows(start, end, window):
    schedule = understand(start=start, end=end).schedule
    assert (schedule.start, schedule.end) == window


def test_a_window_that_cannot_work_keeps_the_old_one_and_says_so():
    request = understand(start="16:00", end="16:20")
    assert request.window_kept
    assert (request.schedule.start, request.schedule.end) == (540, 1020)
    speech = ssml.to_plain_text(reminders.confirmation(request, reminders.Plan(), True).speech)
    assert "didn't work" in speech


@pytest.mark.parametrize("days,expected", [
    ("weekdays", "weekdays"), ("every_day", "every_day"), ("weekends", "weekends"),
    ("office hours", "weekdays"), ("daily", "every_day"), ("the weekend", "weekends"),
])
def test_days(days, expected):
    assert understand(days=days).schedule.days == expected


def test_every_day_is_a_daily_rule_and_weekends_name_their_days():
    assert understand(days="every_day").schedule.rules()[0].startswith("FREQ=DAILY;BYHOUR=")
    assert understand(days="weekends").schedule.rules()[0].startswith(
        "FREQ=WEEKLY;BYDAY=SA,SU;")


def test_what_was_not_said_comes_from_the_last_schedule():
    saved = Schedule(45, 480, 960, "every_day").to_dict()
    assert understand(start="10:00", saved=saved).schedule == Schedule(45, 600, 960,
                                                                        "every_day")
    assert understand(interval="PT30M", saved=saved).schedule.days == "every_day"
    assert understand(saved={"interval": "junk"}).schedule == Schedule.default()


@settings(max_examples=200, deadline=None)
@given(interval=st.sampled_from([30, 45, 60]), start=st.integers(0, 22 * 60),
       length=st.integers(60, 12 * 60), days=st.sampled_from(["weekdays", "every_day",
                                                               "weekends"]))
def test_rules_say_exactly_the_schedule_and_read_back_to_it(interval, start, length, days):
    start -= start % 15
    end = min(start + length, 23 * 60 + 59)
    schedule = Schedule(interval, start, end, days)
    if not schedule.valid():
        return
    specs = schedule.reminders()
    assert all(len(s.rules) <= reminders.data()["max_rules_per_reminder"] for s in specs)
    moments = set()
    for rule in (r for s in specs for r in s.rules):
        parts = dict(p.split("=") for p in rule.split(";"))
        moments |= {int(h) * 60 + int(parts["BYMINUTE"]) for h in parts["BYHOUR"].split(",")}
    assert sorted(moments) == schedule.times()
    assert all(start < t <= end for t in moments)
    existing = [Existing(f"t{i}", "ON", s.rules, s.text) for i, s in enumerate(specs)]
    back = reminders.schedule_of(existing)
    assert back.times() == schedule.times() and back.days == days


def test_plan_keeps_what_matches_and_replaces_the_rest():
    old = Schedule(60, 540, 1020, "weekdays").reminders()
    new = Schedule(45, 540, 1020, "weekdays").reminders()
    existing = [Existing("old", "ON", old[0].rules, old[0].text),
                Existing("done", "COMPLETED", ("FREQ=DAILY;BYHOUR=1;BYMINUTE=0",), "x")]
    todo = reminders.plan(existing, new)
    assert todo.create == new and todo.delete == ["old"]
    after = [Existing("new", "ON", new[0].rules, new[0].text)]
    assert reminders.plan(after, new).nothing_to_do


def test_plan_removes_a_duplicate():
    spec = Schedule.default().reminders()[0]
    twins = [Existing("a", "ON", spec.rules, spec.text), Existing("b", "ON", spec.rules,
                                                                  spec.text)]
    todo = reminders.plan(twins, [spec])
    assert todo.create == [] and todo.delete == ["b"] and todo.kept == 1


def _words(reply) -> int:
    return len(ssml.to_plain_text(reply.speech).split())


@pytest.mark.parametrize("interval", ["PT2H", "PT15M", "PT45M", None])
@pytest.mark.parametrize("one_shot", [True, False])
def test_confirmations_pass_the_one_breath_test(interval, one_shot):
    request = understand(interval=interval, start="08:15", end="16:45", days="every_day")
    reply = reminders.confirmation(request, reminders.Plan(create=[None]), one_shot)
    speech = ssml.to_plain_text(reply.speech)
    assert _words(reply) <= 45, speech
    assert "stop" in speech and reply.end_session == one_shot
    assert one_shot or reply.reprompt


def test_an_adjusted_interval_is_explained_in_the_articles_words():
    reply = reminders.confirmation(understand(interval="PT2H"), reminders.Plan(), True)
    speech = ssml.to_plain_text(reply.speech)
    assert speech.startswith(reminders.data()["advice"])
    assert "every hour" in speech


def test_every_prompt_is_short_and_says_nothing_medical_of_its_own():
    for key, text in reminders.data()["prompts"].items():
        assert len(text.split()) <= 45, key
        ours = text.replace("leg numbness guide", "")  # the invocation name is not advice
        assert not re.search(r"blood|nerve|numb|circulation", ours, re.I), key


@pytest.mark.parametrize("kind", ["permission", "too_many", "unsupported", "timeout",
                                  "unknown", "something new"])
def test_every_error_is_spoken(kind):
    reply = reminders.error(kind, one_shot=False)
    assert ssml.to_plain_text(reply.speech) and reply.reprompt


def test_listing_speaks_the_schedule_or_counts_what_it_cannot_read():
    specs = Schedule(30, 480, 960, "weekdays").reminders()
    existing = [Existing("a", "ON", s.rules, s.text) for s in specs]
    speech = ssml.to_plain_text(reminders.listing(existing, True).speech)
    assert "every 30 minutes" in speech and "8:30 AM to 4 PM" in speech
    odd = [Existing("x", "ON", ("FREQ=DAILY;BYHOUR=7;BYMINUTE=0",), "other"),
           Existing("y", "ON", ("FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0",), "other")]
    assert "2 reminders" in ssml.to_plain_text(reminders.listing(odd, True).speech)
    assert "don't have any" in ssml.to_plain_text(reminders.listing([], True).speech)


@pytest.mark.parametrize("slot_type,heard,sent", [
    ("AMAZON.DURATION", "forty five minutes", "PT45M"),
    ("AMAZON.DURATION", "hour", "PT1H"),
    ("AMAZON.DURATION", "ninety minutes", "PT90M"),
    ("AMAZON.DURATION", "a while", "a while"),
    ("AMAZON.TIME", "nine", "09:00"),
    ("AMAZON.TIME", "five pm", "17:00"),
    ("AMAZON.TIME", "afternoon", "AF"),
    ("AMAZON.SearchQuery", "thirty minutes", "thirty minutes"),
    ("TOPIC", "sciatica", "sciatica"),
])
def test_the_simulator_sends_builtin_values_as_alexa_does(slot_type, heard, sent):
    from simulator import nlu

    assert nlu.alexa_builtin_value(slot_type, heard) == sent
