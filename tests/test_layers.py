"""The layer rule: dependencies point inward (content <- dialog <- alexa <- hosting).

Checked on the source text with `ast`, so a forbidden import fails here even if nothing
happens to execute it.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skill"

FORBIDDEN = {
    "content": ("ask_sdk", "flask", "boto3", "skill.dialog", "skill.alexa", "skill.hosting"),
    "dialog": ("ask_sdk", "flask", "boto3", "skill.alexa", "skill.hosting"),
    "alexa": ("flask", "skill.hosting"),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_inward(layer):
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files, f"layer {layer} has no modules"
    offences = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in files
        for name in imported_modules(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer])
    ]
    assert not offences, "\n".join(offences)


def test_checker_catches_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from ask_sdk_core.utils import is_intent_name\nimport flask\n")
    assert {"ask_sdk_core.utils", "flask"} <= imported_modules(bad)
