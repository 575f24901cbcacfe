"""Who to call, per locale: the emergency number and where to get care today.

Why a module of its own: the first words of emergency guidance are "Call <number> now.",
so a wrong number is the worst bug this skill could have. Everything that differs by
country lives in `locales.json` and is looked up here, in one tested place.

The number depends on where the speaker is, not on the language, so a locale is looked up
by its country part ("es-US" -> US -> 911). An unknown country never gets a guessed
number: it hears "your local emergency number".
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from skill.datafiles import read_json


class LocaleInfo(NamedTuple):
    """What guidance needs to know about where the user is.

    number / number_spoken -- "911" / "nine one one"; both None when the country is unknown.
    urgent_open  -- the first sentence of urgent guidance: where to get care today.
    advice_number / advice_number_spoken -- a non-emergency advice line (GB: NHS 111).
    doctor       -- who to book an appointment with ("your doctor", "your GP").
    """

    code: str
    region: str | None
    number: str | None
    number_spoken: str | None
    urgent_open: str
    advice_number: str | None
    advice_number_spoken: str | None
    doctor: str

    @property
    def known(self) -> bool:
        return self.number is not None


@functools.cache
def _table() -> dict:
    return read_json(__file__, "locales.json")


def supported() -> tuple[str, ...]:
    """The locales the skill ships interaction models for."""
    return tuple(_table()["supported"])


def region_of(locale) -> str | None:
    """"en-GB" -> "GB"; None for anything without a country part."""
    if not isinstance(locale, str):
        return None
    parts = locale.strip().replace("_", "-").split("-")
    if len(parts) < 2 or not parts[-1].isalpha():
        return None
    region = parts[-1].upper()
    return _table()["aliases"].get(region, region)


def info(locale) -> LocaleInfo:
    """Everything guidance needs for `locale`; a safe, number-free default when unknown."""
    return _info(locale if isinstance(locale, str) else None)


@functools.lru_cache(maxsize=64)
def _info(locale: str | None) -> LocaleInfo:
    table = _table()
    region = region_of(locale)
    entry = table["regions"].get(region) if region else None
    if entry is None:
        region, entry = None, table["default"]
    return LocaleInfo(
        code=locale or "",
        region=region,
        number=entry.get("number"),
        number_spoken=entry.get("number_spoken"),
        urgent_open=entry["urgent_open"],
        advice_number=entry.get("advice_number"),
        advice_number_spoken=entry.get("advice_number_spoken"),
        doctor=entry["doctor"],
    )


def emergency_number(locale) -> str | None:
    """The emergency number for `locale` ("999" for en-GB), or None when we don't know it."""
    return info(locale).number
