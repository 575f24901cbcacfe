"""Sentence embeddings from the static model built by tools/build_static_model.py.

Why: the red-flag detector (suspicion.py) and, later, answer ranking need to compare what
someone said with reference sentences by meaning, not by shared words. The model is a
model2vec distillation of all-MiniLM-L6-v2: one 256-number vector per WordPiece token, a
sentence being the mean of its tokens' vectors, scaled to length 1 (so a dot product is a
cosine). That is exactly model2vec's own `StaticModel.encode`, done here with numpy and
`tokenizers` alone, so the skill needs neither torch nor model2vec at run time.

Nothing loads at import: numpy, the tokenizer and the 15 MB matrix load on the first
`encode` call (about 0.2 s, once per process), never on a LaunchRequest.
"""

from __future__ import annotations

import functools
import json
import threading
from pathlib import Path

MODEL_DIR = Path(__file__).resolve().parent / "model"
# Tokens beyond this are dropped (model2vec's default max_length); characters are cut first
# so a hostile 100 kB slot costs no more than a long sentence.
MAX_TOKENS = 512
MAX_CHARS = 4_000

_lock = threading.Lock()


class ModelMissing(RuntimeError):
    """The static model was not built (run `make model` or tools/build_static_model.py)."""


class StaticModel:
    """The tokenizer and the token-vector matrix, loaded once."""

    def __init__(self, directory: Path) -> None:
        manifest_path = directory / "manifest.json"
        if not manifest_path.is_file():
            raise ModelMissing(f"no static model in {directory}")
        import numpy as np
        from tokenizers import Tokenizer

        manifest = json.loads(manifest_path.read_text("utf-8"))
        self._np = np
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        # memory-mapped: only the rows a text uses are ever read from disk
        self.vectors = np.load(directory / "embeddings.npy", mmap_mode="r", allow_pickle=False)
        self.dims = int(self.vectors.shape[1])
        unk = manifest.get("unk_token")
        self.unk_id = self.tokenizer.token_to_id(unk) if unk else None
        if self.vectors.shape[0] != self.tokenizer.get_vocab_size():
            raise ModelMissing(f"{directory}: matrix rows do not match the vocabulary")

    def encode(self, texts: list[str]):
        """A float32 matrix, one unit-length row per text (all zeros for a text with no
        known tokens, e.g. empty or only emoji)."""
        np = self._np
        texts = [text[:MAX_CHARS] for text in texts]
        encodings = self.tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        ids = [[i for i in encoding.ids if i != self.unk_id] for encoding in encodings]
        counts = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        if counts.any():
            # one gather and one segmented sum for the whole batch, not a loop per text
            rows = self.vectors[np.fromiter((i for row in ids for i in row), dtype=np.int64,
                                            count=int(counts.sum()))].astype(np.float32)
            filled = counts > 0
            starts = np.concatenate(([0], np.cumsum(counts)[:-1]))[filled]
            out[filled] = np.add.reduceat(rows, starts, axis=0)
        # the mean's division is dropped: scaling to unit length removes it anyway
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


@functools.cache
def _model_cached() -> StaticModel:
    return StaticModel(MODEL_DIR)


def model() -> StaticModel:
    """The process-wide model, loaded on first use (thread-safe); raises ModelMissing or the
    import error when the model or its run-time libraries are absent."""
    with _lock:
        return _model_cached()


def encode(texts) -> "numpy.ndarray":  # noqa: F821 - numpy is imported lazily
    """Unit-length sentence vectors for `texts` (a string or a list of strings)."""
    if isinstance(texts, str):
        texts = [texts]
    return model().encode([str(text) for text in texts])


def top_mean(similarities, rows, k: int) -> float:
    """The mean of the k highest `similarities` among `rows` (-1.0 when there are none): the
    nearest-neighbour score both banks (suspicion.py, jobs.py) vote with."""
    import numpy as np

    picked = similarities[rows]
    k = min(k, picked.size)
    return float(np.partition(picked, picked.size - k)[-k:].mean()) if k else -1.0
