"""Answers from the article: the flagship "why", topics, free-text questions, "tell me more".

Every answer has the same shape, so a listener always knows what to do next: one short
passage (verbatim from the article), one short question of ours, a reprompt, and a card
whose title is the article's section title and whose text is the passage.
"""

from __future__ import annotations

import json
import logging
import re

from skill.content.catalogue import MAX_WORDS, Passage, Topic, catalogue, word_count
from skill.content import is_verbatim_excerpt
from skill.dialog import prompts, search, ssml
from skill.dialog.reply import Reply
from skill.dialog.state import SessionState

FLAGSHIP_TOPIC = "why_it_happens"
CAUSES_TOPIC = "causes"
# One JSON line per question the article had no good answer for, so a maintainer can see
# what people ask that the article is missing (README: "What people ask that we can't answer").
unanswered_log = logging.getLogger("skill.unanswered")
MAX_LOGGED_CHARS = 200


def _say(*parts: str) -> str:
    return " ".join(ssml.escape(p) for p in parts if p)


def _card_text(text: str) -> str:
    return f"{text}\n\n{prompts.text('card_footer')}"


def _speak_passage(state: SessionState, passage: Passage, index: int, lead_in: str = "",
                   also: tuple[Passage, ...] = ()) -> Reply:
    """Speak `passage` (the `index`th of its topic, plus any `also` that follow it) and
    offer the natural next step: the flagship offers the causes, other topics their next
    passage, and a finished topic a related one."""
    cat = catalogue()
    topic_passages = cat.passages_for(passage.topic)
    last = index + len(also)
    state.mode = "topic"
    state.topic = passage.topic
    state.passage_index = last
    if passage.topic == FLAGSHIP_TOPIC:
        state.pending = f"topic:{CAUSES_TOPIC}"
        question = prompts.text("offer_causes")
    elif last + 1 < len(topic_passages):
        state.pending = "more"
        question = prompts.text("offer_more")
    else:
        question = _offer_related(state, cat.topic(passage.topic))
    texts = [passage.text, *(p.text for p in also)]
    return Reply(
        speech=_say(lead_in, *texts, question),
        reprompt=_say(question),
        card_title=passage.section,
        card_text=_card_text(" ".join(texts)),
    )


def _offer_related(state: SessionState, topic: Topic | None) -> str:
    """Offer the first related topic, so a finished topic never ends in a dead end."""
    cat = catalogue()
    for related_id in (topic.related if topic else ()):
        related = cat.topic(related_id)
        if related is not None and related_id != state.topic:
            state.pending = f"topic:{related_id}"
            return prompts.text("offer_topic", topic=related.name)
    state.pending = None
    return prompts.text("what_next")


def explain_why(state: SessionState) -> Reply:
    """The flagship answer: what happens when a leg falls asleep (the whole short topic, in
    one breath), then an offer of the causes."""
    first, *rest = catalogue().passages_for(FLAGSHIP_TOPIC)
    return _speak_passage(state, first, 0, also=tuple(rest))


def answer_topic(state: SessionState, topic_id: str, lead_in: str = "") -> Reply:
    if topic_id == FLAGSHIP_TOPIC:
        return explain_why(state)
    passages = catalogue().passages_for(topic_id)
    if not passages:
        return no_topic(state)
    return _speak_passage(state, passages[0], 0, lead_in)


def answer_spoken_topic(state: SessionState, resolved_id: str | None, spoken: str | None,
                        user: str = "") -> Reply:
    """A topic slot: trust Alexa's entity resolution, then our synonyms, then the ranker."""
    cat = catalogue()
    if resolved_id and cat.topic(resolved_id) is not None:
        return answer_topic(state, resolved_id)
    if spoken:
        topic = cat.find_topic(spoken)
        if topic is not None:
            return answer_topic(state, topic.id)
        return answer_question(state, spoken, user)
    return no_topic(state)


def answer_question(state: SessionState, text: str | None, user: str = "") -> Reply:
    """A free-text question: the passage that answers it, or an honest "not covered".

    A bare topic name ("sciatica", "tell me about my chair") starts that topic at its
    beginning; anything longer is ranked, so a question that names a topic gets the
    passage of that topic that answers it. `user` is the hashed short user tag for the
    unanswered-question log, never the real id.
    """
    if not text or not text.strip():
        return no_match(state)
    topic = catalogue().find_topic(text)
    if topic is not None:
        return answer_topic(state, topic.id)
    heading = catalogue().find_section(text)
    if heading is not None:
        return _speak_ranked(state, heading)
    terms = search.query_terms(text)
    if terms and all(t in search.GENERIC for t in terms):
        return explain_why(state)
    topic = _topic_asked_about(text)
    if topic is not None:
        return answer_topic(state, topic.id)
    ranking = search.rank(text)
    if ranking.match is None:
        _log_unanswered(text, ranking, user)
        # Sure (a question the article is known not to answer) or merely unsure.
        return _declined(state, sure=ranking.declined.startswith("not_covered"))
    return _speak_ranked(state, ranking.match.passage)


def _declined(state: SessionState, *, sure: bool) -> Reply:
    """Words the article doesn't answer, said where the user is: mid-stretch in the
    stretch's words (the routine waits at its step); mid-check the question again (it still
    wants its answer); elsewhere the menu."""
    from skill.dialog import doctor_check, routine

    if state.mode == "routine":
        return routine.not_covered(state) if sure else routine.fallback(state)
    if doctor_check.in_check(state):
        return doctor_check.not_understood(state)
    return not_covered(state) if sure else no_match(state)


def _speak_ranked(state: SessionState, passage: Passage) -> Reply:
    """A passage chosen for a question, said so that it stands on its own: after the
    sentence it points back to ("This aspect...", "Moreover, ..."), and with its
    continuation, as far as one breath allows."""
    passages = catalogue().passages_for(passage.topic)
    lead = _lead_in(passage)
    first, also = (lead, (passage,)) if lead is not None else (passage, ())
    more = _continuation(passage)
    if more and word_count(" ".join(p.text for p in (first, *also, *more))) <= MAX_WORDS:
        also += more
    return _speak_passage(state, first, passages.index(first), also=also)


# Openers that lean on the sentence before: heard cold, "This aspect is significant"
# leaves the listener asking "which aspect?".
_POINTS_BACK = frozenset(
    "this these those such hence thus moreover conversely additionally furthermore knowing".split())


def _lead_in(passage: Passage) -> Passage | None:
    """The passage before `passage`, when `passage` points back to it, it is the article's
    very previous sentence (same topic), and both fit in one breath."""
    passages = catalogue().passages_for(passage.topic)
    position = passages.index(passage)
    opener = re.match(r"[\w’']+", passage.text)
    if position == 0 or opener is None or opener.group(0).lower() not in _POINTS_BACK:
        return None
    before = passages[position - 1]
    if word_count(before.text) + word_count(passage.text) > MAX_WORDS:
        return None
    return before if is_verbatim_excerpt(before.text + " " + passage.text) else None


_ASKED_ABOUT = re.compile(
    r"^(?:(?:can|could) you |please )?(?:tell me|talk to me|talk|teach me|what do you know|"
    r"i want to (?:know|hear)) about (?P<rest>.+)$")


def _topic_asked_about(text: str) -> Topic | None:
    """"Tell me about MS and leg numbness": a request for a topic, to start at its beginning.

    Only when what follows "about" names exactly one topic (generic words like "leg
    numbness" don't count); "tell me about the warning signs with MS" is left to the ranker.
    """
    asked = _ASKED_ABOUT.match(" ".join(search.query_words(text)))
    if asked is None:
        return None
    topics = search.mentioned_topics(asked.group("rest"))
    return catalogue().topic(topics[0]) if len(topics) == 1 else None


def _continuation(passage: Passage) -> tuple[Passage, ...]:
    """The next passage too, when it continues the same stretch of the article (the
    article's very next words, same topic) and both fit in one breath."""
    cat = catalogue()
    passages = cat.passages_for(passage.topic)
    position = passages.index(passage)
    if position + 1 >= len(passages):
        return ()
    nxt = passages[position + 1]
    if word_count(passage.text) + word_count(nxt.text) > MAX_WORDS:
        return ()
    if not is_verbatim_excerpt(passage.text + " " + nxt.text):
        return ()
    return (nxt,)


def _log_unanswered(text: str, ranking: search.Ranking, user: str) -> None:
    record = {"question": " ".join(text.split())[:MAX_LOGGED_CHARS], "reason": ranking.declined}
    if user:
        record["user"] = user
    unanswered_log.info("unanswered %s", json.dumps(record, ensure_ascii=False))


def tell_more(state: SessionState) -> Reply:
    """Continue the current topic; when it runs out, move to the related topic on offer."""
    cat = catalogue()
    if state.pending and state.pending.startswith("topic:"):
        return answer_topic(state, state.pending.split(":", 1)[1])
    if not state.topic or cat.topic(state.topic) is None:
        return explain_why(state)
    passages = cat.passages_for(state.topic)
    nxt = state.passage_index + 1
    if 0 <= nxt < len(passages):
        return _speak_passage(state, passages[nxt], nxt)
    topic = cat.topic(state.topic)
    question = _offer_related(state, topic)
    done = prompts.text("topic_done", topic=topic.name)
    return Reply(speech=_say(done, question), reprompt=_say(question))


def not_covered(state: SessionState) -> Reply:
    """Honesty: the article doesn't answer this; here is what it can talk about."""
    state.pending = None
    return Reply(speech=_say(prompts.text("not_covered")),
                 reprompt=_say(prompts.text("menu_reprompt")))


def no_match(state: SessionState) -> Reply:
    state.pending = None
    return Reply(speech=_say(prompts.text("no_match")), reprompt=_say(prompts.text("menu_reprompt")))


def no_topic(state: SessionState) -> Reply:
    state.pending = None
    return Reply(speech=_say(prompts.text("no_topic")), reprompt=_say(prompts.text("menu_reprompt")))
