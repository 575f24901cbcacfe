#!/usr/bin/env python3
"""Build skill-package/interactionModels/custom/<locale>.json from interaction_models/source/.

Why generated rather than hand-edited: several people own different intents, five locales
share almost everything, and the TOPIC slot type must always match the topics the dialog
code knows (skill/content/topics.json). Each owner edits only their fragment; this script
merges every fragment in source/ (whoever adds one), adds the built-in intents and the
per-locale extras, and refuses to write a model that Alexa's build would reject (so a
mistake shows up here, not in the console) or that asks Alexa to settle an ambiguity it
cannot know how to settle (the linter, `lint`).

The output goes straight to skill-package/interactionModels/custom/, where ASK CLI v2
reads it (`ask deploy`); it is the only generated copy. The simulator reads it from there.

It also writes skill/dialog/job_samples.json: the slotless samples of the skill's jobs (the
why explanation, a stretch, the doctor check, help, stop, the reminders), every locale's, for
the backend's job recogniser (skill/dialog/jobs.py) and the red-flag detector's "ordinary"
side. So Alexa and the backend learn what a job request sounds like from the same samples.

usage: python tools/build_interaction_models.py [--check]

--check writes nothing and exits 1 when any generated file differs from what the sources
produce (the test suite runs this), 0 when all are up to date.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from skill.content import spoken

ROOT = Path(__file__).resolve().parents[1]
LOCALES_FILE = "locales.json"
TOPIC_TYPE = "TOPIC"
FRAGMENT_KEYS = {"about", "intents", "types", "locale_samples", "one_word_carriers_allowed"}
PHRASE_SLOT_TYPE = "AMAZON.SearchQuery"
INTENT_KEYS = {"name", "slots", "samples"}
# The intents whose slotless samples are requests for a job (skill/dialog/job_samples.json).
JOB_INTENTS = (
    "WhyLegFallsAsleepIntent", "StartRoutineIntent", "DoctorCheckIntent", "AMAZON.HelpIntent",
    "AMAZON.StopIntent", "AMAZON.CancelIntent", "SetMovementRemindersIntent",
    "ListMovementRemindersIntent", "StopMovementRemindersIntent",
)


class BuildError(Exception):
    """The sources cannot make a model Alexa would accept; `problems` says why, one per line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def paths(root: Path) -> dict[str, Path]:
    """Where everything lives, relative to a repository root (tests pass a temporary one)."""
    return {
        "source": root / "interaction_models" / "source",
        "out": root / "skill-package" / "interactionModels" / "custom",
        "topics": root / "skill" / "content" / "topics.json",
        "language": root / "simulator" / "alexa_language.json",
        "job_samples": root / "skill" / "dialog" / "job_samples.json",
    }


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BuildError([f"{path}: missing"]) from None
    except json.JSONDecodeError as error:
        raise BuildError([f"{path}: not valid JSON ({error})"]) from None


def normalized(sample: str) -> str:
    """The form Alexa compares samples in: case and spacing do not make a sample different."""
    return " ".join(spoken.fold(sample).split())


def build_models(root: Path = ROOT) -> dict[str, dict]:
    """Every locale's interaction model, keyed by locale, merged from the sources under `root`."""
    where = paths(root)
    settings = _read_json(where["source"] / LOCALES_FILE)
    language = _read_json(where["language"])
    problems: list[str] = []

    intents: dict[str, dict] = {}  # name -> {"slots": {slot: type}, "samples": [...]}
    types: dict[str, dict] = {}
    extras: dict[str, dict[str, list[str]]] = {loc: {} for loc in settings["locales"]}
    type_owner: dict[str, str] = {}

    for name in settings.get("required_builtins", []):
        intents[name] = {"slots": {}, "samples": []}

    fragments = sorted(p for p in where["source"].glob("*.json") if p.name != LOCALES_FILE)
    allowed_one_word: dict[str, set[str]] = {}  # intent -> carriers its owner keeps, with a why
    for path in fragments:
        fragment = _read_json(path)
        exception = fragment.get("one_word_carriers_allowed")
        if exception is not None:
            if not str(exception.get("why", "")).strip():
                problems.append(f"{path.name}: one_word_carriers_allowed needs a 'why'")
            for intent in fragment.get("intents", []):
                allowed_one_word.setdefault(intent.get("name"), set()).update(
                    normalized(c) for c in exception.get("carriers", []))
        unknown = set(fragment) - FRAGMENT_KEYS
        if unknown:
            problems.append(f"{path.name}: unknown keys {sorted(unknown)}")
        for intent in fragment.get("intents", []):
            _merge_intent(intents, intent, path.name, problems)
        for slot_type in fragment.get("types", []):
            name = slot_type.get("name")
            if name == TOPIC_TYPE:
                problems.append(f"{path.name}: {TOPIC_TYPE} is generated from topics.json")
            elif name in types:
                problems.append(f"{path.name}: type {name} is also defined in {type_owner[name]}")
            else:
                types[name] = slot_type
                type_owner[name] = path.name
        for locale, by_intent in fragment.get("locale_samples", {}).items():
            if locale not in extras:
                problems.append(f"{path.name}: locale_samples for unknown locale {locale}")
                continue
            for intent_name, samples in by_intent.items():
                extras[locale].setdefault(intent_name, []).extend(samples)

    for locale, entry in settings["locales"].items():
        for intent_name, samples in entry.get("samples", {}).items():
            extras[locale].setdefault(intent_name, []).extend(samples)

    types[TOPIC_TYPE] = _topic_type(where["topics"], settings.get("topic_synonyms_left_out", {}))
    _check_shared(intents, types, language, problems)
    problems.extend(lint(intents, types, allowed_one_word))

    models = {}
    for locale, entry in settings["locales"].items():
        for intent_name in extras[locale]:
            if intent_name not in intents:
                problems.append(f"{locale}: extra samples for undeclared intent {intent_name}")
        model = _locale_model(locale, entry, settings, intents, types, extras[locale])
        _check_locale(locale, model, language, problems)
        models[locale] = model
    if problems:
        raise BuildError(problems)
    return models


def _merge_intent(intents: dict, intent: dict, owner: str, problems: list[str]) -> None:
    name = intent.get("name")
    if not isinstance(name, str):
        problems.append(f"{owner}: an intent without a name")
        return
    unknown = set(intent) - INTENT_KEYS
    if unknown:
        problems.append(f"{owner}: {name} has unknown keys {sorted(unknown)}")
    merged = intents.setdefault(name, {"slots": {}, "samples": []})
    for slot in intent.get("slots", []):
        earlier = merged["slots"].get(slot["name"])
        if earlier is not None and earlier != slot["type"]:
            problems.append(f"{owner}: {name}.{slot['name']} is {slot['type']} here, "
                            f"{earlier} elsewhere")
        merged["slots"][slot["name"]] = slot["type"]
    merged["samples"].extend(intent.get("samples", []))


def _topic_type(topics_path: Path, left_out: dict | None = None) -> dict:
    """TOPIC, one value per topic: id = topic id, value = its name, synonyms as spoken.

    `left_out` (locales.json "topic_synonyms_left_out", synonym -> why) names synonyms of
    topics.json that are whole requests of another intent ("is it serious" is the doctor
    check): the dialog code still knows them, but Alexa is not asked to choose."""
    data = _read_json(topics_path)
    values = []
    dropped = {normalized(s) for s in (left_out or {})}
    for topic in data.get("topics", []):
        name = topic["name"]
        seen = {normalized(name)} | dropped
        synonyms = []
        for synonym in topic.get("synonyms", []):
            if normalized(synonym) not in seen:
                seen.add(normalized(synonym))
                synonyms.append(synonym)
        value = {"id": topic["id"], "name": {"value": name}}
        if synonyms:
            value["name"]["synonyms"] = synonyms
        values.append(value)
    if not values:
        raise BuildError([f"{topics_path}: no topics (a custom slot type needs a value)"])
    return {"name": TOPIC_TYPE, "values": values}


def _check_shared(intents: dict, types: dict, language: dict, problems: list[str]) -> None:
    """Checks that do not depend on the locale: names, slot types, built-in duplicates."""
    rules = language["sample_rules"]
    alexa_own = {name: {normalized(s) for s in samples}
                 for name, samples in language["builtin_samples"].items() if name != "about"}
    for name, intent in intents.items():
        builtin = name.startswith("AMAZON.")
        pattern = rules["builtin_intent_name_pattern" if builtin else "custom_intent_name_pattern"]
        if not re.match(pattern, name):
            problems.append(f"intent name {name!r} is not valid")
        for slot, slot_type in intent["slots"].items():
            if not re.match(rules["slot_name_pattern"], slot):
                problems.append(f"{name}: slot name {slot!r} is not valid")
            if not slot_type.startswith("AMAZON.") and slot_type not in types:
                problems.append(f"{name}.{slot}: slot type {slot_type} is not defined")
        for sample in intent["samples"]:
            if normalized(sample) in alexa_own.get(name, ()):
                problems.append(f"{name}: {sample!r} is one of Alexa's own samples; drop it")
    for name in types:
        if not re.match(rules["custom_type_name_pattern"], name):
            problems.append(f"slot type name {name!r} is not valid")


def _locale_model(locale: str, entry: dict, settings: dict, intents: dict, types: dict,
                  extras: dict) -> dict:
    out_intents = []
    for name in sorted(intents):
        intent = intents[name]
        samples, seen = [], set()
        for sample in intent["samples"] + extras.get(name, []):
            key = normalized(sample)
            if key not in seen:  # the same sample from two owners of one intent is harmless
                seen.add(key)
                samples.append(" ".join(sample.split()))
        out = {"name": name}
        if intent["slots"]:
            out["slots"] = [{"name": slot, "type": slot_type}
                            for slot, slot_type in intent["slots"].items()]
        out["samples"] = samples
        out_intents.append(out)
    used_types = {t for i in intents.values() for t in i["slots"].values()}
    out_types = [types[name] for name in sorted(types) if name in used_types]
    level = entry.get("fallback_intent_sensitivity", settings["fallback_intent_sensitivity"])
    return {
        "interactionModel": {
            "languageModel": {
                "invocationName": entry.get("invocation_name", settings["invocation_name"]),
                "modelConfiguration": {"fallbackIntentSensitivity": {"level": level}},
                "intents": out_intents,
                "types": out_types,
            }
        }
    }


_SLOT = re.compile(r"\{([^{}]*)\}")


def _check_locale(locale: str, model: dict, language: dict, problems: list[str]) -> None:
    """What Alexa's model build would reject: bad characters, stray slots, shared samples."""
    rules = language["sample_rules"]
    token = re.compile(rules["token_pattern"])
    model = model["interactionModel"]["languageModel"]
    level = model["modelConfiguration"]["fallbackIntentSensitivity"]["level"]
    if level not in rules["fallback_sensitivity_levels"]:
        problems.append(f"{locale}: fallback sensitivity {level!r} is not valid")
    owner: dict[str, str] = {}
    for intent in model["intents"]:
        name = intent["name"]
        slots = {s["name"]: s["type"] for s in intent.get("slots", [])}
        for sample in intent["samples"]:
            where = f"{locale} {name} {sample!r}"
            if len(sample) > rules["max_chars"]:
                problems.append(f"{where}: longer than {rules['max_chars']} characters")
            bad = [t for t in sample.split() if not token.match(t)]
            if bad or not sample.strip():
                problems.append(f"{where}: not allowed in a sample: {bad}")
            used = _SLOT.findall(sample)
            for slot in used:
                if slot not in slots:
                    problems.append(f"{where}: slot {{{slot}}} is not declared")
            phrase = [s for s in used if slots.get(s) in rules["phrase_slot_types"]]
            if phrase and (len(used) > 1 or not _SLOT.sub("", sample).strip()):
                problems.append(f"{where}: a SearchQuery slot needs a carrier phrase "
                                f"and no other slot")
            key = normalized(sample)
            if key in owner and owner[key] != name:
                problems.append(f"{where}: also a sample of {owner[key]}")
            owner.setdefault(key, name)


# ----------------------------------------------------------------------------- the linter

# Words dropped before samples of different intents are compared: saying "please" or "okay"
# does not make a request a different request.
FILLER_WORDS = frozenset("please just um uh er well oh hey".split())
_BARE = re.compile(r"^\{(\w+)\}$")


def lint_key(sample: str, slots: dict[str, str]) -> str:
    """A sample reduced to what distinguishes it: lower case, no punctuation or filler
    words, each slot replaced by its type (so "{topic}" and "{other}" of one type compare
    equal)."""
    def slot_type(match: re.Match) -> str:
        return f" <{slots.get(match.group(1), match.group(1)).lower()}> "

    text = _SLOT.sub(slot_type, spoken.fold(sample))
    words = re.sub(r"[^a-z0-9<>.' ]+", " ", text).replace("'", "").split()
    return " ".join(w for w in words if w not in FILLER_WORDS)


def _type_values(slot_type: dict) -> set[str]:
    out = set()
    for value in slot_type.get("values", []):
        out.add(normalized(value["name"]["value"]))
        out.update(normalized(s) for s in value["name"].get("synonyms", []))
    return out


def lint(intents: dict, types: dict,
         allowed_one_word: dict[str, set[str]] | None = None) -> list[str]:
    """Ambiguities Alexa's build accepts but cannot resolve well; each one is refused.

    1. a value shared by two slot types that both appear as a bare slot ("{topic}",
       "{feeling}"): the same words could fill either, and Alexa would guess;
    2. a sample of one intent that equals a value or synonym of a slot type used by
       another intent ("is it serious" as a TOPIC synonym and a DoctorCheckIntent sample);
    3. an AMAZON.SearchQuery sample whose carrier phrase is one word ("is {query}"): it
       swallows whatever follows the word, whatever the intent was (unless the fragment
       that owns the intent lists the carrier in "one_word_carriers_allowed", with a why:
       the safety fragment keeps "I {description}", "my {description}"... so that a
       statement of a red flag always reaches triage);
    4. near-duplicate samples across intents (equal after `lint_key`).
    """
    problems: list[str] = []
    bare: dict[str, str] = {}  # slot type -> an intent using it bare
    for name, intent in intents.items():
        for sample in intent["samples"]:
            match = _BARE.match(sample.strip())
            if match and match.group(1) in intent["slots"]:
                bare.setdefault(intent["slots"][match.group(1)], name)
    bare_types = sorted(t for t in bare if t in types)
    for i, first in enumerate(bare_types):
        for second in bare_types[i + 1:]:
            shared = _type_values(types[first]) & _type_values(types[second])
            if shared:
                problems.append(f"lint: bare slot types {first} ({bare[first]}) and {second} "
                                f"({bare[second]}) share {sorted(shared)}")
    users: dict[str, set[str]] = {}
    for name, intent in intents.items():
        for slot_type in intent["slots"].values():
            users.setdefault(slot_type, set()).add(name)
    values = {t: _type_values(types[t]) for t in types}
    for name, intent in intents.items():
        for sample in intent["samples"]:
            key = normalized(sample)
            for slot_type, heard in values.items():
                if key in heard and name not in users.get(slot_type, ()):
                    problems.append(f"lint: {name} sample {sample!r} is also a {slot_type} "
                                    f"value of {sorted(users.get(slot_type, ()))}")
            for slot in _SLOT.findall(sample):
                if intent["slots"].get(slot) == PHRASE_SLOT_TYPE:
                    carrier = _SLOT.sub(" ", sample).split()
                    kept = (allowed_one_word or {}).get(name, set())
                    if len(carrier) < 2 and normalized(" ".join(carrier)) not in kept:
                        problems.append(f"lint: {name} sample {sample!r}: a SearchQuery "
                                        f"carrier of one word swallows whatever follows")
    owner: dict[str, tuple[str, str]] = {}
    for name, intent in intents.items():
        for sample in intent["samples"]:
            key = lint_key(sample, intent["slots"])
            if key in owner and owner[key][0] != name:
                problems.append(f"lint: {name} {sample!r} is a near duplicate of "
                                f"{owner[key][0]} {owner[key][1]!r}")
            owner.setdefault(key, (name, sample))
    return problems


def job_samples(models: dict[str, dict]) -> dict:
    """The slotless samples of each job intent, over every locale (first spelling of each
    normalised form kept, in model order): what skill/dialog/job_samples.json holds."""
    jobs: dict[str, list[str]] = {name: [] for name in JOB_INTENTS}
    seen: dict[str, set[str]] = {name: set() for name in JOB_INTENTS}
    for locale in sorted(models):
        for intent in models[locale]["interactionModel"]["languageModel"]["intents"]:
            name = intent["name"]
            if name not in jobs:
                continue
            for sample in intent.get("samples", []):
                key = normalized(sample)
                if "{" not in sample and key not in seen[name]:
                    seen[name].add(key)
                    jobs[name].append(sample)
    return {
        "about": "GENERATED by tools/build_interaction_models.py from interaction_models/source/ "
                 "(do not edit): the slotless samples of the job intents, every locale. Read by "
                 "skill/dialog/jobs.py (the job recogniser) and skill/dialog/suspicion.py "
                 "(requests for a job are ordinary, not warning signs).",
        "jobs": jobs,
    }


def render(model: dict) -> str:
    """The file text: stable key order, two-space indent, one trailing newline."""
    return json.dumps(model, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a generated file is out of date")
    args = parser.parse_args(argv)
    try:
        models = build_models(root)
    except BuildError as error:
        print("cannot build the interaction models:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    out_dir = paths(root)["out"]
    if not args.check:
        out_dir.mkdir(parents=True, exist_ok=True)
    stale = [p for p in sorted(out_dir.glob("*.json")) if p.stem not in models]
    for path in stale:  # a locale no longer built must not be uploaded
        if not args.check:
            path.unlink()
    outputs = [(out_dir / f"{locale}.json", render(model)) for locale, model in models.items()]
    outputs.append((paths(root)["job_samples"], render(job_samples(models))))
    for path, text in outputs:
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if args.check:
        for path in stale:
            print(f"out of date: {path.relative_to(root)} "
                  f"(run python tools/build_interaction_models.py)", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        print(f"wrote {path.relative_to(root)}")
    if not stale:
        print("interaction models already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
