"""What the dialog layer answers with: everything Alexa needs, nothing ASK-specific."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reply:
    """One turn of the skill.

    `speech` and `reprompt` are SSML fragments without the `<speak>` wrapper; build them
    from plain text with `ssml.escape`. A reply that keeps the session open must carry a
    reprompt; building one that does not raises ValueError, so it never reaches Alexa.
    `card_title`/`card_text` are plain text for the Alexa app card.
    `screen` is optional data for devices with a screen (APL); voice-only devices ignore it.
    """

    speech: str
    reprompt: str | None = None
    card_title: str | None = None
    card_text: str | None = None
    end_session: bool = False
    screen: dict | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.speech or not self.speech.strip():
            raise ValueError("a reply must say something")
        if not self.end_session and not (self.reprompt and self.reprompt.strip()):
            raise ValueError("a reply that keeps the session open needs a reprompt")
