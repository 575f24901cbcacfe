"""The content layer: the pinned article and the passage catalogue built from it.

Everything medical the skill says comes from these passages, so these tests are where
"word for word from the article" is actually enforced: verbatim, whole sentences, under
the right heading, short enough to hear in one breath, and reachable by the words people use.
"""

import hashlib
import re
from pathlib import Path

import pytest

from skill.content import ARTICLE_SHA256, article_text, is_verbatim_excerpt
from skill.content import catalogue as catalogue_module
from skill.content.catalogue import (
    MAX_SPEECH_SECONDS,
    MAX_WORDS,
    WORDS_PER_MINUTE,
    CatalogueError,
    catalogue,
    from_documents,
    normalize_phrase,
    word_count,
)

ROOT = Path(__file__).resolve().parents[1]
ARTICLE_PATH = ROOT / "skill" / "content" / "article.txt"
SHARED_ARTICLE = ROOT.parent / "shared" / "article.txt"

# Every section heading of the article, in order. Each must be covered by a passage.
HEADINGS = [
    "Intro",
    "Prolusion to the Phenomenon",
    "Defining the Experience of Leg Numbness",
    "Common Descriptions and Perceptions",
    "Anatomy of the Leg and Nerves",
    "Structure of the Leg Musculature",
    "Overview of Peripheral Nervous System",
    "Mechanisms Behind Leg Numbness",
    "Nerve Compression and Impingement",
    "Reduced Blood Flow and Its Consequences",
    "Muscle Fatigue and its Role",
    "Common Situations Leading to Numbness",
    "Seating Positions and Posture",
    "Prolonged Activity and Rest Patterns",
    "Injury and Trauma Effects",
    "Health Conditions Associated with Leg Numbness",
    "Diabetes and Peripheral Neuropathy",
    "Multiple Sclerosis Implications",
    "Circulatory Disorders",
    "Nerve Disorders and Radiculopathy",
    "Preventive Measures and Best Practices",
    "Maintaining Good Posture",
    "Regular Movement and Stretching",
    "Modifying Seating Arrangements",
    "When to Seek Medical Advice",
    "Identifying Red Flags",
    "Consulting Healthcare Providers",
    "Closure",
    "Recap of Key Points",
    "Final Thoughts on Leg Numbness",
]

REQUIRED_TOPICS = [
    "why_it_happens", "causes", "what_it_is", "sensations", "leg_muscles", "peripheral_nerves",
    "sciatic_nerve", "nerve_compression", "blood_flow", "muscle_fatigue", "seating_posture",
    "activity_rest", "injury", "diabetes", "multiple_sclerosis", "circulatory_disorders",
    "radiculopathy", "prevention_posture", "prevention_movement", "prevention_seating",
    "red_flags", "specialist", "examination", "treatment", "follow_up", "recap",
]

REQUIRED_SYNONYMS = [
    "pins and needles", "paresthesia", "blood sugar", "MS", "m. s.", "sciatica", "slipped disc",
    "bad circulation", "PAD", "p. a. d.", "my chair", "my desk", "tingling", "numbness",
    "pinched nerve", "herniated disc", "spinal stenosis", "neuropathy", "diabetic", "sugar",
    "circulation", "peripheral artery disease", "posture", "sitting cross legged", "office chair",
    "workstation", "footrest", "stretching", "exercise", "walking", "running", "cycling",
    "hamstrings", "calves", "quadriceps", "nerves", "nervous system", "warning signs",
    "red flags", "neurologist", "vascular specialist", "nerve conduction study",
    "physical therapy", "check up", "summary",
]

# A first answer is heard cold, so it must not lean on a sentence the listener never heard.
REFERRING_OPENERS = {
    "this", "these", "those", "that", "it", "they", "such", "conversely", "hence", "thus",
    "additionally", "moreover", "however", "also", "another", "furthermore",
}

ARTICLE = article_text()
CAT = catalogue()
PASSAGES = CAT.passages
PASSAGE_IDS = [p.id for p in PASSAGES]


def locate(text: str) -> re.Match:
    """Where `text` sits in the raw article, whitespace aside."""
    pattern = r"\s+".join(re.escape(word) for word in text.split())
    match = re.search(pattern, ARTICLE)
    assert match is not None, f"not in the article: {text!r}"
    return match


def heading_above(offset: int) -> str:
    current = None
    position = 0
    for line in ARTICLE.split("\n"):
        if position > offset:
            break
        if line.strip() in HEADINGS:
            current = line.strip()
        position += len(line) + 1
    return current


# --- the article ---------------------------------------------------------------------------

def test_article_is_the_pinned_copy():
    assert hashlib.sha256(ARTICLE_PATH.read_bytes()).hexdigest() == ARTICLE_SHA256
    assert ARTICLE_SHA256 == "b026db262c3fec23585743f3bcf0de8590f7323638f1526f51ca25a69285a3a3"


def test_article_matches_the_shared_copy():
    if not SHARED_ARTICLE.exists():
        pytest.skip("no shared article copy next to the repository")
    assert ARTICLE_PATH.read_bytes() == SHARED_ARTICLE.read_bytes()


def test_headings_list_matches_the_article():
    lines = [line.strip() for line in ARTICLE.splitlines()]
    positions = [lines.index(heading) for heading in HEADINGS]
    assert positions == sorted(positions), "HEADINGS must be in article order"


# --- passages ------------------------------------------------------------------------------

@pytest.mark.parametrize("passage", PASSAGES, ids=PASSAGE_IDS)
def test_passage_is_verbatim(passage):
    assert is_verbatim_excerpt(passage.text), passage.text
    assert passage.text == passage.text.strip() and "  " not in passage.text
    assert not passage.text.startswith("- ") and " - " not in passage.text, "bullet dash spoken"


@pytest.mark.parametrize("passage", PASSAGES, ids=PASSAGE_IDS)
def test_passage_is_whole_sentences(passage):
    match = locate(passage.text)
    line_start = ARTICLE.rfind("\n", 0, match.start()) + 1
    prefix = ARTICLE[line_start:match.start()]
    at_line_start = re.fullmatch(r"(?:- )?(?:[A-Z][A-Za-z -]*: )?[\"“‘]?", prefix) is not None
    after_sentence = re.search(r"[.!?][\"”’]?\s+$", ARTICLE[:match.start()]) is not None
    assert at_line_start or after_sentence, f"starts mid-sentence: ...{prefix[-40:]!r}"
    assert passage.text[0].isupper(), "a passage starts with a capital letter"
    assert re.search(r"[.!?][\"”’]?$", passage.text), "a passage ends with sentence punctuation"
    assert re.match(r"[\"”’]?(?:\s|$)", ARTICLE[match.end():]), "ends mid-sentence"


@pytest.mark.parametrize("passage", PASSAGES, ids=PASSAGE_IDS)
def test_passage_section_is_the_heading_it_sits_under(passage):
    assert passage.section == heading_above(locate(passage.text).start())


@pytest.mark.parametrize("passage", PASSAGES, ids=PASSAGE_IDS)
def test_passage_is_short_enough_to_hear(passage):
    words = word_count(passage.text)
    assert words <= MAX_WORDS
    assert words * 60 / WORDS_PER_MINUTE <= MAX_SPEECH_SECONDS


def test_no_sentence_is_spoken_by_two_passages():
    spans = sorted((locate(p.text).span(), p.id) for p in PASSAGES)
    for ((_, end), first), ((start, _), second) in zip(spans, spans[1:]):
        assert end <= start, f"{first} and {second} overlap"


def test_passage_ids_are_unique():
    assert len(PASSAGE_IDS) == len(set(PASSAGE_IDS))


def test_every_section_is_covered():
    covered = {p.section for p in PASSAGES}
    assert [h for h in HEADINGS if h not in covered] == []


# Article sentences no passage speaks, on purpose. Each says nothing about legs, nerves,
# blood, causes, symptoms or care that a listener could act on:
_ABOUT_THE_ARTICLE = (  # the article describing itself or announcing what comes next
    "This article aims to clarify these mechanisms and illuminate the ways in which we can manage or prevent such occurrences.",
    "By dissecting the various factors that contribute to this physiological event, the article addresses key points of interest.",
    "We will explore why these sensations occur, the potential health implications associated with recurrent episodes, and strategies to maintain leg health.",
    "Additionally, understanding when to seek professional advice becomes crucial for those who may be concerned about their symptoms.",
    "This section provides insights into the structural aspects of the leg, focusing on both musculature and neural pathways.",
    "This section explores various contexts where numbness typically occurs.",
    "The discussion surrounding why a leg may fall asleep is significant for several reasons.",
    "In this article, we have explored various factors contributing to leg numbness—ranging from anatomical structures to health conditions like diabetes and multiple sclerosis.",
    "Readers are encouraged to seek more information if they experience persistent issues and consider this article a starting point for discussion with health practitioners.",
)
_WHY_STUDY_IT = (  # "understanding X is crucial": praise of studying a subject, no claim about it
    "Thorough examination of this phenomenon is vital, as it unravels the complexities of nerve function, blood circulation, and muscular dynamics.",
    "By understanding why this occurs, we can empower ourselves with knowledge, enabling better management and prevention strategies.",
    "By understanding both the anatomical structure of the leg and the functioning principles of the PNS, one can better appreciate the causes of leg numbness and the significance of preventive measures to maintain optimal leg health.",
    "Understanding the mechanisms behind leg numbness is crucial for comprehending why this phenomenon occurs.",
    "These mechanisms reveal not only the body’s response to various stimuli but also present the basis for effective prevention and treatment.",
    "In light of this, recognizing and interpreting these mechanisms immediately brings valuable information to health professionals and individuals alike, helping to mitigate discomfort and guide moment-to-moment care of the body.",
    "Understanding these mechanisms allows individuals and practitioners to tailor preventative measures effectively, ultimately improving quality of life and functional mobility.",
    "By identifying these situations, individuals can take proactive steps to minimize the occurrence.",
    "Understanding the health conditions associated with leg numbness is crucial for a comprehensive grasp of this phenomenon.",
    "By knowing the potential causes, individuals can better advocate for their health and make informed decisions regarding lifestyle and medical attention.",
    "Understanding these connections is key to recognizing when to take action for one’s health.",
    "Determining when to seek medical advice regarding leg numbness is crucial for effective management.",
    "Firstly, understanding the mechanisms behind this common, yet often dismissed, experience can enhance both self-awareness and preventive measures.",
    "Educating oneself about the many factors influencing leg health can foster better choices and lead to improved overall well-being.",
    "It’s also essential to note the distribution of muscles.",
)
_LIST_LEAD_INS = (  # the list items are passages of their own; the lead-in alone says nothing
    "Some common descriptors include:", "Aspects to consider include:", "Here are some suggestions:",
    "Consider these elements when evaluating seating setups:", "These include:",
    "Here are a few considerations regarding consultation:",
)
NOT_SPOKEN = _ABOUT_THE_ARTICLE + _WHY_STUDY_IT + _LIST_LEAD_INS


def article_sentences() -> list[str]:
    """Every sentence of the article body (headings and the title left out), a list item
    without its dash and label, a quotation without its quotation marks."""
    sentences = []
    for line in ARTICLE.splitlines()[1:]:
        line = line.strip()
        if not line or line in HEADINGS:
            continue
        line = re.sub(r"^(?:- )?(?:[A-Z][A-Za-z -]*: )?", "", line).strip('"“”')
        sentences += re.split(r"(?:(?<=[.!?])|(?<=[.!?][’”\"]))\s+(?=[A-Z])", line)
    return sentences


def test_article_sentences_are_split_where_a_listener_hears_them_end():
    sentences = article_sentences()
    assert "Leg numbness can be described as a temporary loss of sensation or feeling in one or both legs." in sentences
    assert "Avoid crossing legs or tucking feet under the chair, as this can compress blood vessels and nerves." in sentences
    assert "Maintaining good posture is the key to ensuring proper circulation and nerve function, leading to fewer instances of leg numbness." in sentences
    assert not any(s in HEADINGS for s in sentences)


def test_every_substantive_sentence_is_spoken_by_some_passage():
    """A question can only be answered well if its answer is in a passage at all."""
    spoken = " ".join(p.text for p in PASSAGES)
    unspoken = [s for s in article_sentences() if s not in spoken and s not in NOT_SPOKEN]
    assert unspoken == []


def test_sentences_left_unspoken_are_article_sentences_no_passage_speaks():
    """The exclusion list stays honest: nothing in it is mistyped or already spoken."""
    spoken = " ".join(p.text for p in PASSAGES)
    sentences = article_sentences()
    assert [s for s in NOT_SPOKEN if s not in sentences] == []
    assert [s for s in NOT_SPOKEN if s in spoken] == []


def test_first_passage_of_each_topic_stands_alone():
    for topic_id in CAT.topics:
        first = CAT.passages_for(topic_id)[0]
        opener = re.match(r"[\w’']+", first.text).group(0).lower()
        assert opener not in REFERRING_OPENERS, f"{topic_id} opens with {first.text!r}"


def test_flagship_explains_then_offers_the_causes():
    assert "interruption of signals" in CAT.passages_for("why_it_happens")[0].text
    assert CAT.passages_for("causes")[0].text.startswith("Factors contributing to this interruption")


def test_word_count_counts_spoken_words():
    assert word_count("sitting on one’s foot") == 4
    assert word_count("long-distance running") == 3
    assert word_count("every 30 to 60 minutes.") == 5


# --- topics --------------------------------------------------------------------------------

def test_required_topics_exist():
    assert [t for t in REQUIRED_TOPICS if t not in CAT.topics] == []


def test_every_topic_has_passages_and_every_passage_a_topic():
    for topic_id in CAT.topics:
        assert CAT.passages_for(topic_id), topic_id
    for passage in PASSAGES:
        assert passage.topic in CAT.topics


def test_topic_fields():
    for topic in CAT.topics.values():
        assert re.fullmatch(r"[a-z]+(?:_[a-z]+)*", topic.id)
        assert topic.section in HEADINGS, topic.id
        assert 1 <= len(topic.related) <= 3, topic.id
        assert all(r in CAT.topics and r != topic.id for r in topic.related), topic.id
        assert len(topic.name.split()) <= 6 and topic.name == topic.name.strip(), topic.id


def test_required_synonyms_present():
    synonyms = {s for t in CAT.topics.values() for s in t.synonyms}
    assert [s for s in REQUIRED_SYNONYMS if s not in synonyms] == []


def test_synonyms_are_valid_slot_values():
    for topic in CAT.topics.values():
        for phrase in (topic.name, *topic.synonyms):
            assert re.fullmatch(r"[A-Za-z][A-Za-z .']*", phrase), f"{topic.id}: {phrase!r}"
            assert phrase == phrase.strip() and "  " not in phrase, f"{topic.id}: {phrase!r}"


def test_no_phrase_belongs_to_two_topics():
    owners: dict[str, str] = {}
    for topic in CAT.topics.values():
        lowered = [s.lower() for s in topic.synonyms]
        assert len(lowered) == len(set(lowered)), f"{topic.id} repeats a synonym"
        for phrase in (topic.name, *topic.synonyms):
            key = normalize_phrase(phrase)
            assert owners.setdefault(key, topic.id) == topic.id, f"{phrase!r}: {owners[key]} and {topic.id}"


@pytest.mark.parametrize(
    ("spoken", "topic_id"),
    [
        ("Pins and needles!", "sensations"),
        ("PARESTHESIA", "what_it_is"),
        ("m.s.", "multiple_sclerosis"),
        ("MS", "multiple_sclerosis"),
        ("p. a. d.", "circulatory_disorders"),
        ("bad circulation", "circulatory_disorders"),
        ("tell me about sciatica", "sciatic_nerve"),
        ("slipped discs", "radiculopathy"),
        ("  my   Chair ", "prevention_seating"),
        ("office chairs", "prevention_seating"),
        ("sitting cross-legged", "seating_posture"),
        ("the hamstring", "leg_muscles"),
        ("blood sugar", "diabetes"),
        ("what is neuropathy", "diabetes"),
        ("a pinched nerve", "nerve_compression"),
        ("warning signs", "red_flags"),
        ("check-up", "examination"),
        ("physical therapy", "treatment"),
        ("follow-up", "follow_up"),
        ("summary", "recap"),
        ("blood_flow", "blood_flow"),
        ("nerve compression", "nerve_compression"),
    ],
)
def test_find_topic_understands_lay_phrasings(spoken, topic_id):
    topic = CAT.find_topic(spoken)
    assert topic is not None and topic.id == topic_id


@pytest.mark.parametrize("spoken", ["", "   ", None, "what's the weather", "pizza", "the", "my"])
def test_find_topic_declines_what_it_does_not_know(spoken):
    assert CAT.find_topic(spoken) is None


def test_lookups_by_id():
    assert CAT.topic("diabetes").name == "diabetes"
    assert CAT.topic("nope") is None
    assert CAT.passage(PASSAGES[0].id) is PASSAGES[0]
    assert CAT.passage("nope") is None
    assert CAT.passages_for("nope") == ()
    assert list(CAT.topics)[0] == "why_it_happens"


# --- loading -------------------------------------------------------------------------------

def _documents():
    topics = [
        {"id": "alpha", "name": "alpha", "section": "Intro", "synonyms": ["first"], "related": ["beta"]},
        {"id": "beta", "name": "beta", "section": "Closure", "synonyms": ["second"], "related": ["alpha"]},
    ]
    passages = [
        {"id": "a1", "topic": "alpha", "section": "Intro", "text": PASSAGES[0].text},
        {"id": "b1", "topic": "beta", "section": "Closure", "text": PASSAGES[1].text},
    ]
    return {"passages": passages}, {"topics": topics}


def test_well_formed_documents_load():
    passages, topics = _documents()
    loaded = from_documents(passages, topics)
    assert loaded.find_topic("second").id == "beta"


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda p, t: p["passages"][0].update(topic="gamma"), "unknown topic 'gamma'"),
        (lambda p, t: p["passages"][0].update(text="Legs are made of cheese."), "not a verbatim excerpt"),
        (lambda p, t: p["passages"].append(dict(p["passages"][0])), "duplicate id"),
        (lambda p, t: p["passages"].pop(), "topic 'beta' has no passages"),
        (lambda p, t: p["passages"][0].update(section="Nowhere"), "not an article heading"),
        (lambda p, t: t["topics"][0].update(related=["gamma"]), "unknown topic 'gamma'"),
        (lambda p, t: t["topics"][1]["synonyms"].append("First"), "ambiguous"),
        (lambda p, t: t["topics"][0]["synonyms"].append("type 2"), "not a valid slot value"),
        (lambda p, t: t["topics"][0].pop("name"), '"name" must be a non-empty string'),
        (lambda p, t: t.pop("topics"), '"topics" list'),
    ],
)
def test_inconsistent_documents_are_refused(breakage, message):
    passages, topics = _documents()
    breakage(passages, topics)
    with pytest.raises(CatalogueError, match=re.escape(message)):
        from_documents(passages, topics)


def test_bad_data_file_fails_loudly(monkeypatch):
    real_read = catalogue_module._read_json

    def read(filename):
        document = real_read(filename)
        if filename == "passages.json":
            document["passages"][0]["topic"] = "no_such_topic"
        return document

    monkeypatch.setattr(catalogue_module, "_read_json", read)
    catalogue.cache_clear()
    try:
        with pytest.raises(CatalogueError, match="no_such_topic"):
            catalogue()
    finally:
        catalogue.cache_clear()


# ------------------------------------------------------------------ the question bank

def test_every_passage_has_ten_to_twenty_distinct_questions():
    from skill.content.catalogue import MAX_QUESTIONS, MIN_QUESTIONS, question_bank

    bank = question_bank()
    assert set(bank.questions) == {p.id for p in catalogue().passages}
    for passage_id, questions in bank.questions.items():
        assert MIN_QUESTIONS <= len(questions) <= MAX_QUESTIONS, passage_id
        assert len({normalize_phrase(q) for q in questions}) == len(questions), passage_id
    assert bank.not_covered, "the bank lists questions the article does not answer"


def test_question_bank_speaks_peoples_words_not_just_the_articles():
    from skill.content.catalogue import question_bank

    words = " ".join(q for qs in question_bank().questions.values() for q in qs).lower()
    for everyday in ("buzzy", "dead leg", "loo", "pilates", "block of wood", "cinema", "mum",
                     "footy", "chiropractor"):
        assert everyday in words, everyday


@pytest.mark.parametrize("breakage,message", [
    (lambda d: d["passages"].pop("definition"), "no questions for passages"),
    (lambda d: d["passages"]["definition"].__delitem__(slice(3, None)), "not 10-20"),
    (lambda d: d["passages"].__setitem__("no_such_passage", ["q"] * 10), "unknown passage"),
    (lambda d: d["passages"]["definition"].append(d["passages"]["definition"][0]), "duplicate"),
    (lambda d: d.__setitem__("not_covered", {"x": []}), "not_covered"),
])
def test_a_broken_question_bank_is_refused(breakage, message):
    import copy
    import json

    from skill.content.catalogue import bank_from_document

    document = copy.deepcopy(json.loads((ROOT / "skill/content/questions.json").read_text()))
    breakage(document)
    with pytest.raises(CatalogueError, match=message):
        bank_from_document(document, catalogue())


@pytest.mark.parametrize(("spoken", "passage_id"), [
    ("When to Seek Medical Advice", "often_harmless"),
    ("tell me about the mechanisms behind leg numbness", "benign_or_serious"),
    ("the closure", "warning_signal"),
    ("final thoughts on leg numbness please", "more_than_discomfort"),
])
def test_find_section_gives_the_first_passage_under_a_named_heading(spoken, passage_id):
    assert CAT.find_section(spoken).id == passage_id


@pytest.mark.parametrize("spoken", ["", None, "medical advice", "when should I see a doctor"])
def test_find_section_wants_a_whole_heading(spoken):
    assert CAT.find_section(spoken) is None


def test_every_heading_is_found_by_its_own_words():
    for heading in HEADINGS:
        passage = CAT.find_section(heading)
        assert passage is not None and passage.section == heading, heading
