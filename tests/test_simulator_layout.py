"""The simulator lives beside the skill, not in it, and installs only what it needs.

The runtime package (`skill/`) is what Lambda and the web service run; the simulator
(`simulator/`) is a development tool that reads the interaction models from the checkout.
These tests hold that line: nothing of the simulator in the Lambda zip or in the installed
package, a `chat` extra without the test toolchain, and `make chat` installing only it.
Also here: the simulator's on-disk cache of sample expressions changes nothing it resolves.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from simulator import nlu

ROOT = Path(__file__).resolve().parents[1]
SIMULATOR_FILES = {p.name for p in (ROOT / "simulator").iterdir()
                   if p.suffix in (".py", ".json") and p.name != "__init__.py"}


def _build_lambda():
    spec = importlib.util.spec_from_file_location("tools_build_lambda_for_layout",
                                                  ROOT / "tools" / "build_lambda.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while executing
    spec.loader.exec_module(module)
    return module


def test_the_simulator_is_a_package_beside_skill_not_inside_it():
    assert {"chat.py", "nlu.py", "envelopes.py", "screen.py", "alexa_language.json"} <= \
        SIMULATOR_FILES
    inside = {p.name for p in (ROOT / "skill").rglob("*")} & SIMULATOR_FILES
    assert inside == set(), f"simulator files inside skill/: {sorted(inside)}"


def test_the_lambda_zip_holds_no_simulator_module(tmp_path):
    build_lambda = _build_lambda()
    output = tmp_path / "skill-only.zip"
    build_lambda.build(output, with_dependencies=False)
    names = zipfile.ZipFile(output).namelist()
    assert any(name.startswith("skill/") for name in names)  # the zip is not empty
    shipped = [name for name in names
               if name.startswith("simulator/") or name.split("/")[-1] in SIMULATOR_FILES
               or re.search(r"/(chat|nlu|envelopes|screen)\.cpython-\d+\.pyc$", name)]
    assert shipped == []


def test_the_runtime_package_never_imports_the_simulator_at_module_level():
    """Only `python -m skill chat` reaches for it, inside the function that runs it."""
    for path in (ROOT / "skill").rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in tree.body:  # module level only
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "simulator" for n in names), path


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def test_the_installed_package_is_only_the_skill():
    find = _pyproject()["tool"]["setuptools"]["packages"]["find"]
    assert not any(pattern.startswith("simulator") for pattern in find["include"])


def test_the_chat_extra_carries_no_test_or_web_tooling():
    extras = _pyproject()["project"]["optional-dependencies"]
    chat = " ".join(extras["chat"]).lower()
    for tool in ("pytest", "hypothesis", "moto", "cfn-lint", "flask", "gunicorn", "docker"):
        assert tool not in chat
    assert any("[chat" in requirement or ",chat" in requirement
               for requirement in extras["test"])  # the tests run the simulator too


def test_make_chat_installs_the_chat_extra_not_the_test_one():
    makefile = (ROOT / "Makefile").read_text("utf-8")
    chat_target = re.search(r"^chat: *(\S+)", makefile, re.M).group(1)
    stamp_variable = re.fullmatch(r"\$\((\w+)\)", chat_target).group(1)
    recipe = re.search(rf"^\$\({stamp_variable}\):.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "'.[chat]'" in recipe and ".[test]" not in recipe


# ------------------------------------------------------------------ the NLU's disk cache

PHRASES = ["why does my leg fall asleep", "tell me about the ms", "what's sciatica",
           "I have a question can diabetes make my feet numb", "stop", "order a pizza"]


def _resolutions(resolver) -> list:
    return [(r.intent, r.slots, r.sample, r.text)
            for r in map(resolver.resolve, PHRASES)]


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(nlu, "CACHE_DIR", tmp_path / "cache")
    nlu.load_resolver.cache_clear()
    yield tmp_path / "cache"
    nlu.load_resolver.cache_clear()


def test_a_cached_resolver_resolves_exactly_as_a_freshly_built_one(cache_dir):
    model = __import__("json").loads((nlu.MODEL_DIR / "en-GB.json").read_text("utf-8"))
    fresh = nlu.Resolver(model)
    first = nlu.load_resolver("en-GB")  # builds, then writes the cache
    assert [p.name for p in cache_dir.iterdir()][0].startswith("en-GB-")
    nlu.load_resolver.cache_clear()
    cached = nlu.load_resolver("en-GB")  # reads it back
    assert cached._patterns == fresh._patterns
    assert _resolutions(cached) == _resolutions(first) == _resolutions(fresh)
    assert _resolutions(fresh)[1][0] == "TopicIntent"


def test_a_corrupt_cache_is_rebuilt_and_a_changed_model_gets_a_new_entry(cache_dir, tmp_path):
    nlu.load_resolver("en-US")
    (entry,) = cache_dir.iterdir()
    entry.write_bytes(b"not a pickle")
    nlu.load_resolver.cache_clear()
    assert _resolutions(nlu.load_resolver("en-US"))[0][0] == "WhyLegFallsAsleepIntent"
    assert entry.read_bytes() != b"not a pickle"  # rewritten
    changed = tmp_path / "models"
    changed.mkdir()
    text = (nlu.MODEL_DIR / "en-US.json").read_text("utf-8")
    (changed / "en-US.json").write_text(text.replace('"why does my leg fall asleep"',
                                                     '"why does my limb fall asleep"'))
    resolver = nlu.load_resolver("en-US", str(changed))
    assert resolver.resolve("why does my limb fall asleep").intent == "WhyLegFallsAsleepIntent"
    assert [p.name for p in cache_dir.iterdir()] != [entry.name]  # keyed on the model
