"""Triage: every red flag in many phrasings, clear negation, ordinary stories, odd input.

The lists here are deliberately separate from tests/data/triage_labelled.tsv (which
tools/triage_report.py measures): they pin the behaviour the issue spells out, so a
phrase-list edit that breaks one of them fails with the phrase in the test id.
"""

import importlib.util
import json
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skill.dialog import triage
from skill.dialog.triage import assess

ROOT = Path(__file__).resolve().parents[1]

EMERGENCY = {
    "face_drooping": [
        "my face is drooping", "one side of my face is drooping", "my face looks droopy",
        "his face drooped", "her mouth droops on the left", "my smile is crooked",
        "half my face went numb", "my face feels numb", "facial drooping",
        "my dad's face is sagging", "the corner of my mouth is hanging down",
        "my lip is drooping", "my face is lopsided", "drooping",
    ],
    "speech": [
        "I'm slurring my words", "my speech is slurred", "slurred speech", "she slurs",
        "my words come out garbled", "I can't get my words out", "he can't talk properly",
        "I'm having trouble speaking", "difficulty speaking", "my speech sounds weird",
        "I keep saying the wrong words", "people can't understand me", "I can hardly speak",
        "my tongue feels thick",
    ],
    "confusion": [
        "I'm confused", "I feel confused", "my mum is suddenly confused", "sudden confusion",
        "I'm disoriented", "I don't know where I am", "I can't think straight",
        "he's not making any sense", "I feel all mixed up", "brain fog",
    ],
    "bladder_bowel": [
        "I can't control my bladder", "I lost control of my bladder", "I wet myself",
        "I've wet myself", "I peed my pants", "I pee myself now", "I pooped my pants",
        "I pooped myself", "I had an accident in my pants", "I can't control my bowels",
        "I can't hold my pee", "I can't pee", "I'm leaking urine", "bladder problems",
        "bowel problems", "bowel or bladder issues", "numbness in my groin",
        "my privates are numb", "I can't feel when I need to pee", "incontinence",
        "I didn't make it to the toilet in time", "numb between my legs", "saddle numbness",
    ],
}

URGENT = {
    "continuous_numbness": [
        "my leg has been numb for hours", "numb for hours", "my foot has been asleep all day",
        "it's been tingling since yesterday", "the numbness won't go away", "it won't go away",
        "my leg is still numb", "my foot's been numb for 3 days", "numb for twenty minutes",
        "it's been asleep for 45 minutes", "I've had numbness for a week",
        "my leg won't wake up", "numbness that lasts longer than a few minutes",
        "constant numbness", "my leg has been dead since this morning", "numb for over an hour",
    ],
    "mobility": [
        "I can't move my leg", "I can't walk", "I can't walk on my leg", "my leg gave out",
        "my leg gave way", "my legs keep giving way", "my knee buckled", "I can barely walk",
        "I can't put weight on my foot", "my leg is paralyzed", "I'm paralysed",
        "my leg is weak", "weakness in my leg", "I can't lift my foot", "my foot is dragging",
        "my leg won't move", "I can't stand up", "my legs feel like jelly",
    ],
    "severe_pain": [
        "severe pain", "the pain is unbearable", "excruciating pain", "I'm in agony",
        "it hurts so bad", "really bad pain in my leg", "the worst pain I've ever had",
        "the pain is a nine out of ten", "it's extremely painful", "the pain is killing me",
        "unbearable", "agonizing pain in my calf",
    ],
}

ROUTINE = [
    "my leg keeps falling asleep", "it happens all the time", "my foot falls asleep every day",
    "it keeps coming back", "I get pins and needles several times a day",
    "my legs go numb for no reason", "I have diabetes and my feet are numb", "I'm diabetic",
    "I have MS", "I have multiple sclerosis", "I have neuropathy", "I have sciatica",
    "I have poor circulation", "I hurt my back and now my leg tingles",
]

ORDINARY = [
    "my leg fell asleep", "my leg fell asleep on the toilet",
    "my foot went numb after sitting cross legged", "it tingles when I sit too long",
    "my foot fell asleep while I was driving", "I slept on my arm and it's tingling",
    "after sitting for hours my leg went numb",
    "I sat on the floor for an hour and my foot fell asleep",
    "I was gaming for three hours and my leg went numb", "my legs fell asleep while kneeling",
    "my foot fell asleep and I couldn't walk for a few seconds",
    "I couldn't feel my foot for a minute until it woke up",
    "it went away after a couple of minutes",
    "pins and needles in my foot", "my toes are tingling", "my leg feels heavy after sitting",
    "my butt is numb from sitting", "every time I sit cross legged my foot falls asleep",
    "my foot falls asleep on long flights",
    "I fell asleep on the couch and woke up with a numb leg",
    "my leg went dead after kneeling", "my leg hurts a little when it wakes up",
]

INFORMATION_QUESTIONS = [
    "what is multiple sclerosis", "does diabetes cause numbness", "what causes sciatica",
    "can poor circulation cause numbness", "tell me about diabetes", "why does my leg fall asleep",
    "should I see a doctor", "what are the warning signs", "how long does numbness last",
    "what is a stroke", "what are the signs of a stroke", "is sciatica serious",
]

NEGATED = [
    "no bladder problems", "I'm not confused", "I don't have any bladder or bowel problems",
    "no problems with my bladder", "bladder control is fine", "I haven't wet myself",
    "my speech isn't slurred", "I don't have slurred speech", "there's no drooping in my face",
    "no weakness", "my leg isn't weak", "I'm not paralyzed", "no severe pain",
    "it's not excruciating", "I don't have diabetes",
    "I have no pain, confusion or bladder problems",
    "no slurred speech, no face drooping, no confusion",
    "neither confusion nor slurred speech",
]

# Negation that is not clear counts as the flag: err toward care.
UNCLEAR_NEGATION = [
    ("I don't think my face is drooping", "face_drooping"),
    ("I'm not sure if my speech is slurred", "speech"),
    ("I can't tell if I'm confused", "confusion"),
    ("maybe my face is drooping", "face_drooping"),
    ("I don't know why my speech is slurred", "speech"),
    ("no, my face is drooping", "face_drooping"),
    ("no pain but my face is drooping", "face_drooping"),
    ("my face isn't drooping but my speech is slurred", "speech"),
    ("nobody noticed my face drooping", "face_drooping"),
    ("I'm not sure I can move my leg", "mobility"),
]


def _cases(table):
    return [(flag, text) for flag, texts in table.items() for text in texts]


@pytest.mark.parametrize("flag, text", _cases(EMERGENCY))
def test_emergency_signs(flag, text):
    result = assess(text)
    assert result.level == "emergency", result
    assert flag in result.flags


@pytest.mark.parametrize("flag, text", _cases(URGENT))
def test_urgent_signs(flag, text):
    result = assess(text)
    assert result.level == "urgent", result
    assert flag in result.flags


@pytest.mark.parametrize("text", ROUTINE)
def test_routine_signs(text):
    assert assess(text).level == "routine"


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_stories_raise_no_flag(text):
    result = assess(text)
    assert result.level == "none", result


@pytest.mark.parametrize("text", ["the pain isn't too bad", "it's not numb anymore",
                                  "it doesn't last long", "it goes away after a minute",
                                  "I can move my leg fine", "my speech is fine"])
def test_reassuring_statements_raise_no_flag(text):
    assert assess(text).level == "none"


@pytest.mark.parametrize("text", INFORMATION_QUESTIONS)
def test_information_questions_are_not_alarms(text):
    assert not assess(text).at_least("routine"), assess(text)


@pytest.mark.parametrize("text", [
    "can slurred speech happen with this", "is face drooping normal",
    "what should I do if my face droops", "is it serious if I can't move my leg",
    "what if the numbness lasts for hours", "am I having a stroke",
])
def test_red_flags_inside_questions_still_count(text):
    assert assess(text).alarm


@pytest.mark.parametrize("text", NEGATED)
def test_clear_negation_is_respected(text):
    result = assess(text)
    assert result.level == "none", result
    assert result.negated, "the flag should be recorded as mentioned-but-negated"


@pytest.mark.parametrize("text, flag", UNCLEAR_NEGATION)
def test_unclear_negation_errs_toward_care(text, flag):
    assert flag in assess(text).flags


@pytest.mark.parametrize("text, level", [
    ("I wet myself", "emergency"), ("I'm wetting myself", "emergency"),
    ("he wets himself", "emergency"), ("my leg gives out", "urgent"),
    ("my legs gave out", "urgent"), ("my legs are giving way", "urgent"),
    ("my face droops", "emergency"), ("faces drooping", "emergency"),
    ("it was numb for two hours", "urgent"), ("numb for 2 hours", "urgent"),
    ("numb for two hrs", "urgent"), ("I'm slurring", "emergency"), ("she slurred", "emergency"),
])
def test_tense_plural_and_number_variants(text, level):
    assert assess(text).level == level


def test_duration_describes_the_symptom_not_the_sitting():
    assert assess("my leg has been numb for two hours").level == "urgent"
    assert assess("I sat for two hours and my leg went numb").level == "none"
    assert assess("for two hours my leg has been numb").level == "urgent"
    assert assess("it's been like this for hours").level == "urgent"  # can't tell: care


def test_brief_resolved_episodes_are_ordinary_but_pain_is_not():
    assert assess("I couldn't walk for a few seconds until it woke up").level == "none"
    assert assess("I couldn't walk").level == "urgent"
    assert assess("excruciating pain for a few seconds").level == "urgent"
    assert assess("my face drooped for a few seconds").level == "emergency"


def test_a_past_inability_while_the_leg_was_asleep_is_the_ordinary_episode():
    assert assess("my foot fell asleep and I couldn't walk").level == "none"
    assert assess("my foot fell asleep and now I can't walk").level == "urgent"
    assert assess("I couldn't walk").level == "urgent"
    assert assess("my leg fell asleep and gave out").level == "urgent"


def test_flags_are_ordered_most_serious_first():
    result = assess("I can't move my leg and my face is drooping")
    assert result.flags[0] == "face_drooping"
    assert result.primary == "face_drooping"
    assert set(result.flags) >= {"face_drooping", "mobility"}


def test_assess_all_takes_the_most_serious():
    result = triage.assess_all(["my leg fell asleep", "I can't walk", None, ""])
    assert result.level == "urgent"


def test_question_hint_overrides_the_guess():
    # "I {description}" leaves "was diagnosed with MS": a statement, despite "was".
    assert assess("was diagnosed with ms").level == "none"
    assert assess("was diagnosed with ms", question=False).level == "routine"
    assert assess("a stroke dangerous", question=True).level == "none"
    assert assess("having a stroke", question=False).level == "emergency"


@pytest.mark.parametrize("text", [
    "MY FACE IS DROOPING!!!", "ｍｙ ｆａｃｅ ｉｓ ｄｒｏｏｐｉｎｇ",
    "my fa\u200bce is droo\u200bping", "my face… is drooping", "My Face Is Drooping?",
    "my face is drooooping", "my face,is,drooping",
    "my face...is...drooping", "😱 my face is drooping 😱", "my face is dro\u0301oping",
])
def test_odd_unicode_and_spelling_still_match(text):
    assert assess(text).level == "emergency"


@pytest.mark.parametrize("value", [None, "", "   ", 42, 3.5, b"bytes", ["list"], {"a": 1},
                                   "\x00\x01\x02", "\ud800", "🦵" * 100, "é" * 300])
def test_any_input_is_handled(value):
    assert assess(value).level in triage.LEVELS


def test_long_input_is_handled_and_a_late_flag_still_found():
    filler = "my leg fell asleep on the sofa while I was reading. " * 100
    text = (filler + "Now my face is drooping.")[-5000:]
    assert len(text) == 5000
    started = time.perf_counter()
    assert assess(text).level == "emergency"
    assert assess(filler[:5000]).level == "none"
    # Not a benchmark (bench/ has those); only a guard against pathological backtracking.
    assert time.perf_counter() - started < 2.0


def test_huge_input_is_cut_not_choked_on():
    assert assess("a" * 1_000_000).level == "none"
    assert assess("word " * 200_000).level == "none"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_never_raises_on_arbitrary_text(text):
    result = assess(text)
    assert result.level in triage.LEVELS
    assert all(triage.flag_level(f) in triage.LEVELS for f in result.flags)


@settings(max_examples=200, deadline=None)
@given(prefix=st.text(alphabet=st.characters(whitelist_categories=("Ll", "Zs")), max_size=40),
       phrase=st.sampled_from(["my face is drooping", "I wet myself", "slurred speech",
                               "I can't move my leg", "the pain is unbearable"]))
def test_red_flag_survives_any_lowercase_preamble(prefix, phrase):
    # A sentence break keeps an arbitrary preamble from negating the flag.
    assert assess(f"{prefix}. {phrase}").alarm


def test_preempting_level_rules():
    face = assess("my face is drooping")
    weak = assess("weakness")
    diabetes_q = assess("why does my leg keep falling asleep")
    diabetes_me = assess("I have diabetes and my feet are numb")
    assert triage.preempting_level(face, "TopicIntent", catalogue_topic=True) == "emergency"
    assert triage.preempting_level(weak, "TopicIntent", catalogue_topic=True) == "none"
    assert triage.preempting_level(weak, "QuestionIntent") == "urgent"
    assert triage.preempting_level(diabetes_q, "QuestionIntent") == "none"
    assert triage.preempting_level(diabetes_q, "SymptomStoryIntent") == "routine"
    assert triage.preempting_level(diabetes_me, "QuestionIntent") == "routine"
    assert triage.preempting_level(assess("my leg fell asleep"), "SymptomStoryIntent") == "none"


def test_every_flag_has_a_known_level_and_phrase_data_is_json():
    data = json.loads((ROOT / "skill/dialog/red_flags.json").read_text("utf-8"))
    assert set(data["flags"]) == set(triage.flag_ids())
    for flag in triage.flag_ids():
        assert triage.flag_level(flag) in ("emergency", "urgent", "routine")
        assert triage.flag_label(flag)


def test_the_issue_examples():
    assert assess("my face is drooping").level == "emergency"
    assert assess("I can't control my bladder").level == "emergency"
    assert assess("my leg has been numb for hours").level == "urgent"
    assert assess("I can't move my leg").level == "urgent"
    assert assess("my leg fell asleep on the toilet").level == "none"


# ---------------------------------------------------------------- the labelled set

def _report_module():
    spec = importlib.util.spec_from_file_location("triage_report",
                                                  ROOT / "tools" / "triage_report.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


REPORT = _report_module()
FALSE_ALARM_BOUND = 0.02


def test_labelled_set_is_big_and_varied():
    rows = REPORT.load()
    assert len(rows) >= 250
    counts = {level: sum(1 for _, lvl in rows if lvl == level) for level in triage.LEVELS}
    assert counts["emergency"] >= 60 and counts["urgent"] >= 60
    assert counts["routine"] >= 25 and counts["none"] >= 100
    assert len({text.lower() for text, _ in rows}) == len(rows), "duplicate rows"


def test_labelled_set_recall_and_false_alarms():
    report = REPORT.evaluate(REPORT.load(), REPORT.direct, "direct")
    missed = [(t, e, g) for t, e, g, _ in report.misses if triage.rank(g) < triage.rank(e)]
    assert report.recall("emergency") == 1.0, missed
    assert report.recall("urgent") == 1.0, missed
    assert report.false_alarm_rate() <= FALSE_ALARM_BOUND, report.misses


@pytest.mark.parametrize("locale", ["en-US", "en-GB", "en-AU", "en-CA", "en-IN"])
def test_labelled_set_through_the_interaction_model(locale):
    """What users would hear: a few phrasings fall to the fallback or to a slot-less
    intent (tools/triage_report.py --nlu lists them), but never an ordinary story to an
    alarm. A drop here usually means a new sample swallowed red-flag phrases."""
    report = REPORT.evaluate(REPORT.load(), REPORT.through_nlu(locale), locale)
    assert report.recall("emergency") >= 0.95, report.misses
    assert report.recall("urgent") >= 0.97, report.misses
    assert report.false_alarm_rate() <= FALSE_ALARM_BOUND, report.misses


def test_report_flags_a_miss(tmp_path):
    planted = tmp_path / "planted.tsv"
    planted.write_text("my leg fell asleep\temergency\nmy face is drooping\tnone\n", "utf-8")
    report = REPORT.evaluate(REPORT.load(planted), REPORT.direct, "planted")
    assert report.recall("emergency") == 0.0
    assert report.false_alarm_rate() == 1.0
    with pytest.raises(ValueError):
        bad = tmp_path / "bad.tsv"
        bad.write_text("no level here\n", "utf-8")
        REPORT.load(bad)


# ---------------------------------------------------------------- families and traps

@pytest.mark.parametrize("text, flag", [
    # speech by what it sounds like or what goes wrong with the words
    ("she keeps searching for words", "speech"), ("he's talking all funny", "speech"),
    ("my mum can't get a sentence out", "speech"), ("he's mumbling", "speech"),
    # confusion by behaviour
    ("he didn't recognise his own kitchen", "confusion"),
    ("she keeps asking the same question", "confusion"),
    ("dad doesn't know what day it is", "confusion"),
    # continence by euphemism
    ("I didn't make it to the bathroom and didn't feel it coming", "bladder_bowel"),
    ("my waterworks have stopped working", "bladder_bowel"),
    # the face by what the mouth or smile does
    ("when he smiles only one side moves", "face_drooping"),
    ("her gob's gone wonky", "face_drooping"),
    # mobility by workaround; duration by a story with times
    ("I have to hold on to the furniture to get around", "mobility"),
    ("my leg won't take my weight", "mobility"),
    ("it went dead before breakfast and it's still dead at lunchtime", "continuous_numbness"),
    ("my foot has been numb since I got up", "continuous_numbness"),
    ("the feeling hasn't come back", "continuous_numbness"),
])
def test_signs_described_by_their_effect(text, flag):
    assert flag in assess(text).flags, assess(text)


@pytest.mark.parametrize("text", [
    "I was lost for words when I saw the bill", "I'm confused by all the advice online",
    "I nearly wet myself laughing", "my face fell when I saw the price",
    "I can't stand my neighbour's music", "my son pulled a silly lopsided face",
    "my dog looked so confused", "my cat wet himself with excitement",
    "it hurt like crazy for a moment, then nothing",
    "my leg gave way for a second but I was fine by the time I got to the door",
    "my bladder's fine, it's just my foot",
    "I'm confused how this skill works", "I'm a bit confused how to use this",
])
def test_traps_do_not_alarm(text):
    assert not assess(text).alarm, assess(text)


def test_a_resolved_episode_never_cancels_an_emergency_sign_or_a_long_duration():
    assert assess("my face drooped for a minute, then it was fine").level == "emergency"
    assert assess("my leg was numb for three hours, then it went away").alarm
    assert assess("the pain was unbearable for two hours, then it eased").alarm


def test_a_trap_needs_to_explain_the_match():
    assert assess("my dog barked and now my face is drooping").level == "emergency"
    # confusion about how the skill works is not confusion about where you are
    assert assess("I'm confused how do I get home").level == "emergency"
    assert assess("I'm confused, what do I do now").level == "emergency"
    assert assess("my face fell on one side this morning").level == "emergency"


@pytest.mark.parametrize("text, about", [
    ("is slurred speech a sign of something serious", True),
    ("how is bladder control connected to all this", True),
    ("what does it mean if someone's face droops", True),
    ("out of interest, does a drooping smile mean a stroke", True),
    ("what should I do if my foot ever starts to drag", True),
    ("why do they say confusion is an emergency", True),
    ("am I having a stroke", False),                  # personal
    ("what should I do if my face droops", False),    # personal, not hypothetical
    ("is he slurring right now", False),              # now
    ("slurred speech", False),                        # not a question: a statement
    ("my dad is slurring, what does that mean", False),
    ("why does my mum's face droop, has it ever happened before", False),  # "ever" alone
])
def test_questions_about_a_sign_are_told_from_statements(text, about):
    assert triage.asks_about_sign(text) is about


def test_a_question_intent_slot_that_names_what_a_sign_is_asks_about_it():
    assert triage.asks_about_sign("slurred speech a sign of a stroke", question_intent=True)
    assert not triage.asks_about_sign("slurred speech", question_intent=True)
    assert not triage.asks_about_sign("slurred speech is that bad", question_intent=True)


# ---------------------------------------------------------------- the safety decision

class _Suspects:
    def __init__(self, flag):
        self.flag, self.score = flag, 0.9


@pytest.fixture
def detector():
    from skill.dialog import safety

    table = {}
    safety.use_detector(lambda text: next((_Suspects(f) for w, f in table.items()
                                           if w in text), None))
    yield table
    safety.use_detector(None)


def test_decision_rules_act_and_questions_are_answered(detector):
    from skill.dialog import safety

    assert safety.decide(["my face is drooping"], None).action == "emergency"
    decision = safety.decide(["is slurred speech a sign of something serious"], "QuestionIntent")
    assert (decision.action, decision.flag) == ("answer", "speech")
    # a symptom intent's slot is a statement whatever its words
    assert safety.decide(["is slurring"], "SymptomStoryIntent").action == "emergency"
    assert safety.decide(["my leg fell asleep"], "SymptomStoryIntent").action == "none"


def test_decision_confirms_only_what_the_rules_missed_and_only_once(detector):
    from skill.dialog import safety

    detector.update({"a bit off": "confusion", "drooping": "speech"})
    asked = safety.decide(["dad seems a bit off"], "SymptomStoryIntent")
    assert (asked.action, asked.flag) == ("confirm", "confusion")
    assert safety.decide(["my face is drooping"], "SymptomStoryIntent").action == "emergency"
    assert safety.decide(["dad seems a bit off"], "SymptomStoryIntent",
                         may_confirm=False).action == "none"
    assert safety.decide(["dad seems a bit off"], "StartRoutineIntent").action == "none"


def test_the_detector_does_not_ask_about_what_the_rules_explained(detector):
    """A question about a sign in general, an idiom, or a warning word a trap excused (a
    pet, a baby, a screen) gets no confirming question; a plain story still does."""
    from skill.dialog import safety

    detector.update({"bit off": "confusion", "talk": "speech", "wobbl": "mobility"})
    for text in ["why would someone suddenly go a bit off",
                 "I'm a bit off and don't know if I'm coming or going this week",
                 "the dog's back legs keep giving way, he seems a bit off",
                 "my baby can't talk yet, she's only ten months old"]:
        assert safety.decide([text], None).action == "none", text
    assert safety.decide(["grandpa is wobbling about and seems a bit off"],
                         None).action == "confirm"


@pytest.mark.parametrize("text, level", [
    # families from the set C round, in words of our own
    ("his mouth is coming down on the right and the eyelid too", "emergency"),
    ("when she grins only the one side curls up", "emergency"),
    ("my brother's talking like he's had a skinful but he's stone cold sober", "emergency"),
    ("gran doesn't know who I am today", "emergency"),
    ("he keeps asking me what year it is, again and again", "emergency"),
    ("I've been trying to pee since lunch and nothing, I just can't", "emergency"),
    ("dad cannae stand up on his own", "urgent"),
    ("my toes feel like someone is stabbing them with needles", "urgent"),
    ("the numb patch on my thigh has spread since the weekend", "urgent"),
    # traps of the same round
    ("my grandson is learning to walk and keeps falling over", "none"),
    ("the baby can't talk yet, she's eight months", "none"),
    ("on the telly last night a man's face drooped and they rushed him in", "none"),
    ("I could hardly get a word in with my aunt all afternoon", "none"),
    ("my knees turned to jelly when the results came out", "none"),
    ("nothing came out of the meeting, as usual", "none"),
    ("the battery just runs out on my phone", "none"),
])
def test_set_c_round_families_and_traps(text, level):
    assert assess(text).level == level, (text, assess(text))


def test_address_words_do_not_hide_a_question_about_a_sign():
    assert triage.asks_about_sign("alexa, is slurred speech a sign of something serious")
    assert triage.asks_about_sign("sir what is the symptom of a stroke")
    assert triage.asks_about_sign("why would someone suddenly lose control of their bladder")
    assert not triage.asks_about_sign("alexa why is my dad suddenly slurring")
    assert not triage.asks_about_sign("what do I do, someone suddenly can't move their leg")
    assert not triage.asks_about_sign("what should I do if someone suddenly can't talk now")


def test_a_failing_or_missing_detector_is_a_silent_one():
    from skill.dialog import safety

    def broken(text):
        raise RuntimeError("model failed to load")

    safety.use_detector(broken)
    try:
        assert safety.decide(["dad seems a bit off"], "SymptomStoryIntent").action == "none"
    finally:
        safety.use_detector(None)


def test_the_confirmation_slice_is_validated():
    from skill.dialog.state import ATTRIBUTE_KEY, SessionState

    good = {"v": 1, "pending": "confirm:speech",
            "safety": {"asked": True, "intent": "SymptomStoryIntent", "text": "x"}}
    assert SessionState.from_attributes({ATTRIBUTE_KEY: good}).safety["asked"] is True
    for bad in ({"asked": "yes", "intent": "", "text": ""}, {"asked": True}, ["asked"],
                {"asked": True, "intent": 3, "text": ""}):
        state = SessionState.from_attributes({ATTRIBUTE_KEY: dict(good, safety=bad)})
        assert state.was_reset and state.safety is None


@pytest.mark.parametrize("name, missed, alarms, questions", [
    ("set_a.tsv", 1, 2, 4),     # 254 texts, 108 ordinary
    ("set_c.tsv", 4, 4, 8),     # 353 texts, 163 ordinary: issue bars 2/50 and 1 in 5
])
def test_blind_tuning_sets_hold_their_figures(name, missed, alarms, questions):
    """Sets A and C are the blind sets we tuned on (tests/data/blind/triage/); set B is the
    holdout and is only measured (tools/triage_report.py --blind), never asserted. Red
    flags reach guidance at once (`missed` may not, at most); ordinary stories raise at
    most `alarms` alarms and `questions` confirming questions."""
    from skill.dialog import safety

    rows = REPORT.load_blind(ROOT / "tests" / "data" / "blind" / "triage" / name)
    heard = [(row, safety.decide([row["text"]], None).action) for row in rows]
    emergencies = [a for r, a in heard if r["expected"] == "emergency"]
    urgent = [a for r, a in heard if r["expected"] == "urgent"]
    ordinary = [a for r, a in heard if r["expected"] == "none"]
    assert emergencies.count("emergency") + \
        sum(a in ("emergency", "urgent") for a in urgent) >= len(emergencies + urgent) - missed
    assert sum(a in ("emergency", "urgent") for a in ordinary) <= alarms
    assert ordinary.count("confirm") <= questions


# ---------------------------------------------------------------- what the new replies say

SAFETY_FLAGS = ("face_drooping", "speech", "confusion", "bladder_bowel", "mobility",
                "severe_pain", "continuous_numbness")


def _plain(reply):
    from skill.dialog import ssml

    return ssml.to_plain_text(reply.speech)


@pytest.mark.parametrize("locale, number", [("en-US", "911"), ("en-GB", "999"),
                                            ("en-AU", "000"), ("en-IN", "112")])
@pytest.mark.parametrize("flag", SAFETY_FLAGS)
def test_the_answer_about_a_sign_is_the_article_plus_one_line(flag, locale, number):
    from skill.content import is_verbatim_excerpt
    from skill.dialog import guidance

    reply = guidance.about_sign(locale, flag)
    spoken = _plain(reply)
    assert is_verbatim_excerpt(guidance.passages_for(flag, triage.flag_level(flag))[0])
    assert spoken.startswith(guidance.passages_for(flag, triage.flag_level(flag))[0])
    assert f"If this is happening to someone now, call {number}" in spoken
    assert not reply.end_session and reply.reprompt
    assert len(spoken.split()) <= 45


@pytest.mark.parametrize("flag", SAFETY_FLAGS)
def test_confirming_questions_are_short_yes_no_questions_that_never_diagnose(flag):
    from skill.dialog import guidance

    reply = guidance.confirm_question(flag, "en-US")
    spoken = _plain(reply)
    assert spoken.endswith("?") and len(spoken.split()) <= 25
    assert not any(w in spoken.lower() for w in ("you have", "stroke", "diagnos"))
    assert not reply.end_session and reply.reprompt


def test_fallback_replies_keep_an_emergency_line_within_one_breath():
    from skill.dialog import guidance, menu, safety
    from skill.dialog.state import SessionState

    idle = _plain(safety.fallback(SessionState(), "en-AU"))
    story = _plain(safety.fallback(SessionState(pending="doctor_check"), "en-AU"))
    waiting = _plain(safety.fallback(SessionState(pending="confirm:speech"), "en-AU"))
    assert "If it's an emergency, call 000" in idle and len(idle.split()) <= 45
    assert story.startswith("Sorry, I didn't catch that. If someone has face drooping")
    assert "000" in story and len(story.split()) <= 45
    assert waiting.startswith("Sorry, I didn't catch that. Just to check: is the speech")
    assert menu.fallback(SessionState()).speech.split(".")[0] in idle
    assert "call your local emergency number" in _plain(guidance.fallback_safety_net("xx-XX"))
