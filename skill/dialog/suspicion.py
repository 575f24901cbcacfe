"""A detector that suspects a red flag the phrase rules did not confirm.

Why: people describe warning signs by their effects ("only half her mouth goes up", "I
have to hold on to the furniture to get around"), in words no phrase list foresees. This
module compares what was said, by meaning, with a bank of reference sentences
(`suspicion_bank.json`): descriptions of each warning sign in many registers, and
ordinary things that must not alarm (everyday leg-asleep stories, resolved episodes,
questions about signs, idioms, negations, jokes; and the interaction model's own samples of
a stretch request, generated into `job_samples.json`, less any that read like a sign). It is a k-nearest-neighbour vote on
sentence embeddings (`embedding.py`): a text is suspected of a sign when its k nearest
descriptions of that sign are close enough (`min_similarity`) and closer, by
`min_margin`, than its k nearest ordinary sentences. The skill then asks one confirming
question; it never acts on a suspicion alone.

It never raises: if the model or numpy cannot load, it logs one warning and suspects
nothing (the phrase rules still run). Nothing loads at import; the model loads on the
first call that carries text.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from skill.datafiles import read_json
from skill.dialog.embedding import top_mean
from skill.dialog.lazily import Lazily

logger = logging.getLogger(__name__)

FLAGS = ("face_drooping", "speech", "confusion", "bladder_bowel", "mobility",
         "severe_pain", "continuous_numbness")
# The text a person says in one turn; more than this is not speech, and cutting it keeps
# the cost of a hostile request bounded.
MAX_CHARS = 2_000


@dataclass(frozen=True)
class Suspicion:
    """A warning sign the text may describe.

    flag   -- one of FLAGS.
    score  -- mean cosine similarity of the text to the sign's k nearest descriptions.
    margin -- how much closer those are than the k nearest ordinary sentences.
    """

    flag: str
    score: float
    margin: float


class _Detector:
    """The bank's vectors and the settings, built once from suspicion_bank.json."""

    def __init__(self) -> None:
        from skill.dialog import embedding

        import numpy as np

        bank = read_json(__file__, "suspicion_bank.json")
        settings = bank["settings"]
        self.k = int(settings["k"])
        self.min_similarity = float(settings["min_similarity"])
        self.min_margin = float(settings["min_margin"])
        unknown = set(bank["signs"]) - set(FLAGS)
        if unknown:
            raise ValueError(f"suspicion_bank.json: unknown signs {sorted(unknown)}")
        texts, owners = [], []
        for index, flag in enumerate(FLAGS):
            for text in bank["signs"].get(flag, ()):
                texts.append(text)
                owners.append(index)
        for group in bank["ordinary"].values():
            texts.extend(group)
            owners.extend([-1] * len(group))
        # requests for the skill's jobs are ordinary too ("let's get the blood moving in my
        # legs" is a stretch, not a leg that won't move): the interaction model's own samples
        # of the intents named in the settings, generated into job_samples.json
        from skill.dialog.jobs import job_samples

        jobs = job_samples()
        requests = [text for intent in settings.get("ordinary_job_intents", ())
                    for text in jobs[intent]]
        self._encode = embedding.encode
        self.vectors = self._encode(texts)
        owners = np.asarray(owners)
        if requests:
            # ...but not one that reads like a warning sign ("help me get my legs moving" is
            # too near "I can't get my legs to move"): the signs' recall comes first
            vectors = self._encode(requests)
            signs = self.vectors[owners >= 0]
            kept = (vectors @ signs.T).max(axis=1) < float(settings["job_request_max_sign_similarity"])
            self.vectors = np.concatenate([self.vectors, vectors[kept]])
            owners = np.concatenate([owners, np.full(int(kept.sum()), -1)])
        self.rows = [np.flatnonzero(owners == index) for index in range(len(FLAGS))]
        self.ordinary_rows = np.flatnonzero(owners == -1)

    def suspect(self, text: str) -> Suspicion | None:
        text = text[:MAX_CHARS]
        best = None
        for similarities in self._encode([text, *clauses(text)]) @ self.vectors.T:
            ordinary = top_mean(similarities, self.ordinary_rows, self.k)
            for flag, rows in zip(FLAGS, self.rows):
                score = top_mean(similarities, rows, self.k)
                if best is None or score - ordinary > best.margin:
                    best = Suspicion(flag, round(score, 4), round(score - ordinary, 4))
        if best.score >= self.min_similarity and best.margin >= self.min_margin:
            return best
        return None


# A long story's mean vector dilutes the one clause that matters ("...and then he asked me
# whose house this was"), so stories of LONG_STORY_WORDS or more are also judged clause by
# clause (at most MAX_CLAUSES clauses of at least MIN_CLAUSE_WORDS words).
LONG_STORY_WORDS = 20
MIN_CLAUSE_WORDS = 4
MAX_CLAUSES = 16
_CLAUSE_BREAK = re.compile(r"[.!?;:]+|,\s*(?:and|but|then|so)\b|\b(?:and then|but then|and now)\b",
                           re.IGNORECASE)


def clauses(text: str) -> list[str]:
    """The clauses of a long story worth judging on their own; none for a short text."""
    if len(text.split()) < LONG_STORY_WORDS:
        return []
    parts = (part.strip() for part in _CLAUSE_BREAK.split(text))
    return [part for part in parts
            if len(part.split()) >= MIN_CLAUSE_WORDS and part != text.strip()][:MAX_CLAUSES]


detector: Lazily[_Detector] = Lazily(_Detector, "red-flag detector",
                                     "the phrase rules alone decide", logger)


def suspect(text: str) -> Suspicion | None:
    """The warning sign `text` most likely describes, or None when nothing is suspected
    (empty text, an ordinary story, or the detector could not load). Never raises."""
    return detector.ask(text, _Detector.suspect)


def warm_up() -> None:
    """Load the model and the bank now (for a benchmark or a web worker's start-up)."""
    detector.get()
