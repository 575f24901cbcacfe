"""A statistical helper built once per process on first use, or, if it cannot be built, none.

Why: the red-flag detector (suspicion.py) and the job recogniser (jobs.py) each load the
sentence model and a bank of reference sentences (numpy, about 0.2 s) that a LaunchRequest
must never pay for, and neither may take a request down: when the model is missing or a
text is odd, the phrase rules still decide. One loader makes both fail the same way: one
warning, then nothing, for the life of the process.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")


class Lazily(Generic[T]):
    """`build()` on first use, under a lock; after a failure, None without trying again."""

    def __init__(self, build: Callable[[], T], name: str, without_it: str,
                 log: logging.Logger) -> None:
        self._build = build
        self._log = log                 # the owning module's logger
        self.name = name                # "red-flag detector": said in the warnings
        self._without_it = without_it   # what still decides when it is unavailable
        self._lock = threading.Lock()
        self._value: T | None = None
        self._failed = False

    def get(self) -> T | None:
        """The helper, or None (warned once) when it cannot be built."""
        if self._value is not None or self._failed:
            return self._value
        with self._lock:
            if self._value is None and not self._failed:
                try:
                    self._value = self._build()
                except Exception:  # any failure disables the helper, never the skill
                    self._failed = True
                    self._log.warning("%s unavailable; %s", self.name, self._without_it,
                                   exc_info=True)
            return self._value

    def ask(self, text: Any, question: Callable[[T, str], Any]) -> Any:
        """`question(helper, text)`, or None for empty or non-text input, an unavailable
        helper, or any error on this one text. Never raises."""
        try:
            if not isinstance(text, str) or not text.strip():
                return None
            helper = self.get()
            return question(helper, text) if helper is not None else None
        except Exception:  # a helper must never take a request down with it
            self._log.warning("%s failed on one text", self.name, exc_info=True)
            return None

    def reset(self) -> None:
        """Forget what was built or failed (tests that take the model away and back)."""
        with self._lock:
            self._value = None
            self._failed = False
