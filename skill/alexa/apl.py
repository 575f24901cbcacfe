"""APL for devices with a screen: a `Reply.screen` dict -> a RenderDocument directive.

Only `context.respond` calls this, and only when the device lists
`Alexa.Presentation.APL` among its supported interfaces, so voice-only devices (and the
Lambda cold start) never load a document.

`Reply.screen` shape: `{"document": "<name>", "data": {...}}`. The document is
`skill/alexa/apl/<name>.json` (data, not code, so a designer can edit it); `data` becomes
the document's `payload` datasource.
"""

from __future__ import annotations

import functools
import re

from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective

from skill.datafiles import read_json

DATASOURCE = "payload"
DEFAULT_DOCUMENT = "stretch_step"
TOKEN_PREFIX = "pins-and-needles"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@functools.cache
def document(name: str) -> dict:
    """The APL document `skill/alexa/apl/<name>.json` (names are checked: no paths)."""
    if not _NAME.match(name):
        raise ValueError(f"not an APL document name: {name!r}")
    return read_json(__file__, "apl", f"{name}.json")


def render_directive(screen: dict) -> RenderDocumentDirective:
    """The directive that shows `screen` (see the module docstring for its shape)."""
    name = screen.get("document") or DEFAULT_DOCUMENT
    return RenderDocumentDirective(
        token=f"{TOKEN_PREFIX}-{name.replace('_', '-')}",
        document=document(name),
        datasources={DATASOURCE: dict(screen.get("data") or {})},
    )
