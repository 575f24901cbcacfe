"""The red-flag detector (skill/dialog/suspicion.py) and its embeddings, with the real model.

The model is built by `make` (tools/build_static_model.py); these tests fail, rather than
skip, when it is missing, because the skill would then silently lose its detector.
The example sentences below were written for these tests: they are neither in the bank
(a test checks) nor taken from the blind sets.
"""

from __future__ import annotations

import csv
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from skill.dialog import embedding, suspicion

ROOT = Path(__file__).resolve().parents[1]
BANK = ROOT / "skill" / "dialog" / "suspicion_bank.json"
TUNING_SET = ROOT / "tests" / "data" / "blind" / "triage" / "set_a.tsv"

# Warning signs told by their effect, as the rules may not word them.
EFFECT_DESCRIPTIONS = [
    ("my auntie's lips look crooked and one side of her face won't lift when she laughs",
     "face_drooping"),
    ("every word he says comes out blurry and thick", "speech"),
    ("granddad asked me which town we live in, he's lived here all his life", "confusion"),
    ("I didn't notice I'd wet my trousers until my son pointed it out", "bladder_bowel"),
    ("I'm using the backs of chairs to get from room to room because my leg keeps folding",
     "mobility"),
    ("the ache in my calf is so fierce I've been in tears all evening", "severe_pain"),
    ("my foot went numb at lunchtime yesterday and it still hasn't come back",
     "continuous_numbness"),
    # a long story: the sign is one clause of many (judged clause by clause)
    ("we spent the whole morning at the garden centre and had tea and scones in the cafe, "
     "then on the drive home my husband turned to me and asked who I was and where we were "
     "going", "confusion"),
]

ORDINARY_STORIES = [
    "my leg went to sleep while I was reading in the bath",
    "I knelt down to weed the flower bed and got pins and needles in both feet",
    "after the concert my bum was completely numb from the hard seats",
    "my foot fell asleep under the desk, it tingled and then it was fine",
    "why do my toes tingle when I sit cross legged",
    "I was lost for words at my daughter's wedding",
    "my face isn't drooping, it's only my toes that are prickly",
    "my son's face fell when he lost the match",
    "it hurt like mad for a few seconds when the feeling came back, then nothing",
    "thank you, that helps",
    ("I had a lovely lunch with my sister at the new Italian place on the high street, we "
     "shared a tiramisu, and then my foot went to sleep under the table for a minute or so"),
]


@pytest.fixture(scope="module")
def built_model():
    manifest = embedding.MODEL_DIR / "manifest.json"
    assert manifest.is_file(), ("the static model is not built: run `make model` "
                                "(tools/build_static_model.py)")
    return json.loads(manifest.read_text("utf-8"))


def test_the_built_model_is_the_one_the_manifest_describes(built_model):
    model = embedding.model()
    assert model.vectors.shape == (built_model["rows"], built_model["dims"])
    assert str(model.vectors.dtype) == built_model["dtype"]


@pytest.mark.parametrize("text, flag", EFFECT_DESCRIPTIONS)
def test_effect_descriptions_are_suspected_as_their_sign(built_model, text, flag):
    found = suspicion.suspect(text)
    assert found is not None, text
    assert found.flag == flag, (text, found)
    assert found.flag in suspicion.FLAGS and isinstance(found.score, float)


@pytest.mark.parametrize("text", ORDINARY_STORIES)
def test_ordinary_stories_are_not_suspected(built_model, text):
    assert suspicion.suspect(text) is None


@pytest.mark.parametrize("text", [
    "", "   ", "\n\t", "x" * 5_000, "my leg " * 1_000, "🦵🦵 😴", "ça picote, ma jambe dort",
    "脚麻了", "\u0000\u200b\ufeff", "a", "?!", "<speak>hi</speak>", "\ud800 lone surrogate",
    None, 42, b"bytes",
])
def test_never_raises_on_odd_input(built_model, text):
    found = suspicion.suspect(text)
    assert found is None or found.flag in suspicion.FLAGS


def test_empty_text_is_never_suspected(built_model):
    assert suspicion.suspect("") is None and suspicion.suspect("  ") is None


def test_a_suspicion_is_a_small_immutable_value(built_model):
    found = suspicion.suspect(EFFECT_DESCRIPTIONS[0][0])
    with pytest.raises(AttributeError):
        found.flag = "speech"
    assert found == suspicion.Suspicion(found.flag, found.score, found.margin)


def test_encode_gives_unit_vectors_that_rank_by_meaning(built_model):
    vectors = embedding.encode(["my speech is slurred", "I'm slurring my words",
                                "how do I stretch my hamstrings", ""])
    norms = (vectors ** 2).sum(axis=1)
    assert norms[:3] == pytest.approx([1.0, 1.0, 1.0], abs=1e-4)
    assert norms[3] == 0.0  # no tokens, no direction
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    assert embedding.encode("one text").shape == (1, vectors.shape[1])


def test_encode_is_what_model2vec_computes(built_model):
    """embedding.py re-implements StaticModel.encode with numpy + tokenizers only."""
    model2vec = pytest.importorskip("model2vec")  # build-time dependency
    model = embedding.model()
    reference = model2vec.StaticModel(vectors=model.vectors, tokenizer=model.tokenizer,
                                      normalize=True)
    texts = ["my foot went to sleep", "the pain is unbearable and won't stop"]
    assert abs(embedding.encode(texts) - reference.encode(texts)).max() < 1e-3


def test_a_missing_model_disables_the_detector_with_one_warning(model_taken_away, caplog):
    with model_taken_away(), caplog.at_level(logging.WARNING, logger=suspicion.__name__):
        assert suspicion.suspect(EFFECT_DESCRIPTIONS[0][0]) is None
        assert suspicion.suspect(EFFECT_DESCRIPTIONS[1][0]) is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "unavailable" in warnings[0].getMessage()
    assert suspicion.suspect(EFFECT_DESCRIPTIONS[1][0]) is not None  # back once restored


_IMPORT_PROBE = """
import sys
import skill.dialog.suspicion, skill.dialog.embedding
heavy = sorted(m for m in ("numpy", "tokenizers") if m in sys.modules)
print(",".join(heavy) or "none")
"""


def test_importing_the_detector_loads_no_numpy_or_tokenizer():
    completed = subprocess.run([sys.executable, "-c", _IMPORT_PROBE], capture_output=True,
                               text=True, cwd=ROOT, check=True)
    assert completed.stdout.strip() == "none"


_LAUNCH_PROBE = """
import json, sys
sys.path.insert(0, "lambda")
import lambda_function
from tests_probe import launch
lambda_function.lambda_handler(launch, None)
print("numpy" in sys.modules, "tokenizers" in sys.modules)
"""


def test_a_launch_request_loads_no_model(tmp_path):
    launch = {
        "version": "1.0",
        "session": {"new": True, "sessionId": "amzn1.echo-api.session.probe",
                    "application": {"applicationId": "amzn1.ask.skill.probe"},
                    "user": {"userId": "amzn1.ask.account.probe"}},
        "context": {"System": {"application": {"applicationId": "amzn1.ask.skill.probe"},
                               "user": {"userId": "amzn1.ask.account.probe"},
                               "device": {"deviceId": "d", "supportedInterfaces": {}},
                               "apiEndpoint": "https://api.amazonalexa.com"}},
        "request": {"type": "LaunchRequest", "requestId": "amzn1.echo-api.request.probe",
                    "timestamp": "2024-01-01T00:00:00Z", "locale": "en-US"},
    }
    (tmp_path / "tests_probe.py").write_text(f"launch = {json.dumps(launch)!r}\n"
                                             "import json\nlaunch = json.loads(launch)\n")
    env = {"PYTHONPATH": f"{ROOT}:{tmp_path}", "PATH": "/usr/bin:/bin",
           "SKILL_ID": "amzn1.ask.skill.probe", "LOG_LEVEL": "WARNING"}
    completed = subprocess.run([sys.executable, "-c", _LAUNCH_PROBE], capture_output=True,
                               text=True, cwd=ROOT, env=env)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split()[-2:] == ["False", "False"]


def _bank_texts() -> dict[str, str]:
    bank = json.loads(BANK.read_text("utf-8"))
    texts = {}
    for flag, group in bank["signs"].items():
        texts.update({t: flag for t in group})
    for kind, group in bank["ordinary"].items():
        texts.update({t: kind for t in group})
    return texts


def test_the_bank_covers_every_sign_and_has_no_duplicates():
    bank = json.loads(BANK.read_text("utf-8"))
    assert set(bank["signs"]) == set(suspicion.FLAGS)
    assert all(len(group) >= 25 for group in bank["signs"].values())
    every = [t for g in bank["signs"].values() for t in g] + \
            [t for g in bank["ordinary"].values() for t in g]
    assert len(every) == len(set(every))
    assert {"k", "min_similarity", "min_margin"} <= set(bank["settings"])


def test_no_bank_sentence_or_test_example_is_copied_from_a_blind_set():
    bank = {t.lower().strip() for t in _bank_texts()}
    mine = {t.lower() for t, _ in EFFECT_DESCRIPTIONS} | {t.lower() for t in ORDINARY_STORIES}
    assert not mine & bank, "test examples must be new to the detector"
    for blind_set in sorted(TUNING_SET.parent.glob("set_*.tsv")):   # A, C and holdout B
        with blind_set.open(encoding="utf-8", newline="") as handle:
            blind = {row["text"].lower().strip()
                     for row in csv.DictReader(handle, delimiter="\t")}
        copied = len(bank & blind)   # a count, so a failure never prints the holdout's items
        assert copied == 0, f"{copied} bank sentences are items of {blind_set.name}"


def test_every_suspected_flag_is_a_triage_flag():
    """The skill asks about, and gives guidance for, the flag the detector names."""
    from skill.dialog import triage

    assert set(suspicion.FLAGS) <= set(triage.flag_ids())
