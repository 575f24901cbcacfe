#!/usr/bin/env python3
"""Dump every triage decision over a large corpus, to prove a refactor changes none.

Why: a rewrite of skill/dialog/triage.py's machinery must not move a single decision.
This builds a corpus from every labelled phrase in the repository (tests/data/**/*.tsv but
the blind sets, which tools/triage_report.py --blind measures; string literals in
tests/*.py; every string in tests/transcripts/*.yaml) plus the interaction models' samples
with each slot filled by labelled phrases, and variants of each text (upper case, doubled
letters, punctuation), then writes one JSON line per (text, question hint) with the full
Assessment; with --decide, one line per text with what the user hears (safety.decide, the
detector included). Run it against two checkouts and diff:

  python tools/triage_equivalence.py --root /work/wt/base --corpus-root . > before.jsonl
  python tools/triage_equivalence.py --root . > after.jsonl
  cmp before.jsonl after.jsonl
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def _strings_in_python(path: Path):
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def _strings_in_yaml(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings_in_yaml(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings_in_yaml(v)


def corpus(root: Path) -> list[str]:
    import yaml

    texts: list[str] = []
    phrases: list[str] = []
    for path in sorted((root / "tests" / "data").rglob("*.tsv")):
        if "blind" in path.relative_to(root).parts:   # measured by triage_report.py --blind
            continue
        for line in path.read_text("utf-8").splitlines():
            text = line.split("\t", 1)[0]
            if text and not text.startswith("#"):
                phrases.append(text)
    for path in sorted((root / "tests").glob("*.py")):
        texts += [s for s in _strings_in_python(path) if len(s) < 400]
    for path in sorted((root / "tests" / "transcripts").glob("*.yaml")):
        texts += list(_strings_in_yaml(yaml.safe_load(path.read_text("utf-8"))))
    texts += phrases
    fillers = phrases[::7] or ["my leg"]
    k = 0
    for path in sorted((root / "skill-package" / "interactionModels" / "custom").glob("*.json")):
        model = json.loads(path.read_text("utf-8"))["interactionModel"]["languageModel"]
        values = {t["name"]: [v["name"]["value"] for v in t["values"]]
                  for t in model.get("types", [])}
        for intent in model["intents"]:
            for sample in intent.get("samples", []):
                texts.append(sample)
                for slot in intent.get("slots", []):
                    marker = "{" + slot["name"] + "}"
                    if marker not in sample:
                        continue
                    for value in values.get(slot["type"], [])[:3]:
                        texts.append(sample.replace(marker, value))
                    texts.append(sample.replace(marker, fillers[k % len(fillers)]))
                    k += 1
    variants = []
    for text in phrases:
        variants += [text.upper(), text + "!!!", text.replace("o", "ooo", 1),
                     text.replace(" ", ", ", 1), "well, " + text + ". thanks",
                     text.replace("'", "’")]
    seen: dict[str, None] = {}
    for text in texts + variants:
        seen.setdefault(text, None)
    return list(seen)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, default=HERE, help="checkout whose triage runs")
    parser.add_argument("--corpus-root", type=Path, default=HERE)
    parser.add_argument("--decide", action="store_true",
                        help="dump what the user hears (safety.decide, detector included)"
                             " instead of the rules' assessment")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.root.resolve()))
    from skill.dialog import triage

    assert Path(triage.__file__).resolve().is_relative_to(args.root.resolve()), triage.__file__
    if args.decide:
        from skill.dialog import safety

        for text in corpus(args.corpus_root):
            decision = safety.decide([text], None)
            print(json.dumps([text, decision.action, decision.flag]))
        return 0
    for text in corpus(args.corpus_root):
        for hint in (None, True, False):
            a = triage.assess(text, question=hint)
            print(json.dumps([text, hint, a.level, list(a.flags), list(a.negated),
                              a.question, a.personal]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
