"""Shared test set-up: the real Lambda entry, with a real SQLite store for memory.

The Lambda module is imported once, after pointing its persistence at a throw-away SQLite
file, so transcript tests can check what is remembered across sessions through the very
function Alexa calls.
"""

import importlib
import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_DIR = ROOT / "lambda"

_STORE_DIR = tempfile.mkdtemp(prefix="pins-tests-")
os.environ.setdefault("SKILL_SQLITE_PATH", os.path.join(_STORE_DIR, "memory.sqlite3"))
os.environ.pop("SKILL_ID", None)
os.environ.pop("SKILL_TABLE", None)


@pytest.fixture(scope="session")
def lambda_handler():
    """`lambda_function.lambda_handler`, imported exactly as AWS Lambda imports it."""
    if str(LAMBDA_DIR) not in sys.path:
        sys.path.insert(0, str(LAMBDA_DIR))
    module = importlib.import_module("lambda_function")
    return module.lambda_handler


@pytest.fixture
def model_taken_away(tmp_path, monkeypatch):
    """A context manager: inside it the sentence model is gone (an empty model directory),
    after it the model is back. Both statistical helpers (the red-flag detector, the job
    recogniser) forget what they built on the way in and out, so a test sees them fail to
    load and then recover, as a process whose model went missing would."""
    import contextlib

    from skill.dialog import embedding, jobs, suspicion

    def forget():
        embedding._model_cached.cache_clear()
        suspicion.detector.reset()
        jobs.recogniser.reset()

    @contextlib.contextmanager
    def away():
        monkeypatch.setattr(embedding, "MODEL_DIR", tmp_path)
        forget()
        try:
            yield
        finally:
            monkeypatch.undo()
            forget()

    return away
