"""APL for devices with a screen: every `Reply` -> one RenderDocument directive.

Only `context.respond` calls this, once per reply, and only when the device lists
`Alexa.Presentation.APL` among its supported interfaces; so every answer on an Echo Show
gets a screen from this one place, and voice-only devices (and the Lambda cold start)
never load a document.

Which document: the one `Reply.screen` names (`{"document": "<name>", "data": {...}}`)
when the dialog has something particular to show -- a stretch step, a doctor-check
question, emergency or urgent guidance -- otherwise `answer`: the card's title (for a
passage, its section heading) over the card's text. Every document receives, in its
`payload` datasource, the common fields below; the dialog's own `data` adds to them.

- `title`: the card title ("Pins and Needles" when the reply has none);
- `paragraphs`: the card text (else the speech) as a list of paragraphs, disclaimer removed;
- `hint`: what to say next (the reprompt), empty when the session ends;
- `footer`: the disclaimer, the same words as the card footer.

Documents are `skill/alexa/apl/<name>.json` (data, not code, so a designer can edit them),
built from APL's own components rather than the `alexa-layouts` package: the device would
fetch that package at render time, and Amazon's validator (`apl-suggester`, run by
tests/test_apl.py) does not check the properties of imported layouts, while it checks
every property of ours.
"""

from __future__ import annotations

import functools
import html
import re

from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective

from skill.datafiles import read_json
from skill.dialog import prompts, ssml
from skill.dialog.reply import Reply

DATASOURCE = "payload"
DEFAULT_DOCUMENT = "answer"
DEFAULT_TITLE = "Pins and Needles"
TOKEN_PREFIX = "pins-and-needles"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@functools.cache
def document(name: str) -> dict:
    """The APL document `skill/alexa/apl/<name>.json` (names are checked: no paths)."""
    if not _NAME.match(name):
        raise ValueError(f"not an APL document name: {name!r}")
    return read_json(__file__, "apl", f"{name}.json")


def disclaimer() -> str:
    """The footer every card and every screen carries."""
    return prompts.text("card_footer")


def paragraphs(text: str) -> list[str]:
    """Plain text -> paragraphs for an APL Text, minus the disclaimer (shown as the footer).

    APL Text reads a little HTML-like markup, so `&` and `<` are escaped.
    """
    body = text.strip().removesuffix(disclaimer()).strip()
    return [html.escape(" ".join(part.split()), quote=False)
            for part in re.split(r"\n\s*\n", body) if part.strip()]


def payload(reply: Reply) -> dict:
    """What the document shows: the common fields, then the dialog's screen data."""
    screen = reply.screen or {}
    body = reply.card_text or ssml.to_plain_text(reply.speech)
    data = {
        "title": reply.card_title or DEFAULT_TITLE,
        "paragraphs": paragraphs(body),
        "hint": "" if reply.end_session else ssml.to_plain_text(reply.reprompt or ""),
        "footer": disclaimer(),
    }
    data.update(screen.get("data") or {})
    return data


def render_directive(reply: Reply) -> RenderDocumentDirective:
    """The directive that shows `reply` (see the module docstring for what goes where)."""
    name = (reply.screen or {}).get("document") or DEFAULT_DOCUMENT
    return RenderDocumentDirective(
        token=f"{TOKEN_PREFIX}-{name.replace('_', '-')}",
        document=document(name),
        datasources={DATASOURCE: payload(reply)},
    )
