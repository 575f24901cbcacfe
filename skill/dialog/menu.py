"""The skill's front door and signposts: welcome, help, fallback, repeat, goodbye.

These replies carry no medical content, only our own short framing, and each one that
keeps the session open ends with a question and a reprompt that names real options.
"""

from __future__ import annotations

from skill.dialog import prompts, ssml
from skill.dialog.reply import Reply
from skill.dialog.state import SessionState


def _reply(key: str, reprompt_key: str = "menu_reprompt", **values: str) -> Reply:
    return Reply(
        speech=ssml.escape(prompts.text(key, **values)),
        reprompt=ssml.escape(prompts.text(reprompt_key)),
    )


def welcome(state: SessionState, first_time: bool) -> Reply:
    """First visit: what the skill does and the not-medical-advice line, in one breath."""
    _reset(state)
    reply = _reply("welcome" if first_time else "welcome_back")
    return Reply(
        speech=reply.speech,
        reprompt=reply.reprompt,
        card_title="Welcome to Pins and Needles",
        card_text=prompts.text("welcome") + "\n\n" + prompts.text("card_footer"),
    )


def home(state: SessionState) -> Reply:
    _reset(state)
    return _reply("home")


def start_over(state: SessionState) -> Reply:
    return home(state)


def help_for(state: SessionState) -> Reply:
    """Help that depends on where the user is (features with their own help handle theirs)."""
    from skill.content.catalogue import catalogue  # only help inside a topic needs it

    topic = catalogue().topic(state.topic) if state.mode == "topic" and state.topic else None
    if topic is not None:
        state.pending = "more"
        return _reply("help_topic", topic=topic.name)
    return _reply("help_idle")


def fallback(state: SessionState) -> Reply:
    state.pending = None
    return _reply("fallback")


def after_no(state: SessionState) -> Reply:
    state.pending = None
    return _reply("after_no")


def nothing_pending(state: SessionState) -> Reply:
    return _reply("nothing_pending")


def repeat(state: SessionState) -> Reply:
    """Say again exactly what was last said (kept in the session as plain strings)."""
    if not state.last_speech:
        return _reply("nothing_to_repeat")
    return Reply(
        speech=state.last_speech,
        reprompt=state.last_reprompt or ssml.escape(prompts.text("menu_reprompt")),
        card_title=state.last_card_title,
        card_text=state.last_card_text,
    )


def reset_notice(state: SessionState) -> Reply:
    """Tampered or stale session memory: say so briefly and start fresh."""
    _reset(state)
    speech = prompts.text("reset_notice") + " " + prompts.text("menu_reprompt")
    return Reply(speech=ssml.escape(speech), reprompt=ssml.escape(prompts.text("menu_reprompt")))


def goodbye(state: SessionState) -> Reply:
    _reset(state)
    return Reply(speech=ssml.escape(prompts.text("goodbye")), end_session=True)


def error() -> Reply:
    return _reply("error", "error_reprompt")


def _reset(state: SessionState) -> None:
    state.mode = "idle"
    state.topic = None
    state.passage_index = -1
    state.pending = None
    state.doctor = None
    state.routine = None
