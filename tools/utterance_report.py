#!/usr/bin/env python3
"""Play the blind utterance sets through an NLU and the real Lambda handler; score what happened.

Why behaviour and not intent names: a phrase has been understood when the skill did the right
thing, whichever intent carried it (a "why" question answered by the question ranker with the
article's account of the causes is a success; "what was that previous one?" read as a
question that reads a passage out mid-stretch is a failure even though QuestionIntent is a
valid intent). So each row's words are resolved by one NLU, sent through
`lambda/lambda_function.lambda_handler` in the state the row names (a fresh session after
the welcome for jobs; step 3 of the seated stretch, or the doctor check's first question, for
controls), and the response and session state are checked against what that job or control
must do.

NLUs (--nlu, comma separated):
  straight  no NLU: the intent the row's label names, sent as is (separates the backend's
            gaps from the model's)
  sim       the simulator's whole-sample matcher (`simulator.nlu`), the exact-match view
  sem       /work/shared/tools/semantic_nlu.py (sentence embeddings), the statistical stand-in
            (needs its venv: bash /work/shared/tools/setup.sh)
  words     no NLU either: every phrase reaches QuestionIntent with all its words (the ceiling
            of what the backend understands when nothing is lost to the fallback or a carrier)
  va+words  virtual-alexa, except that what it sends to the fallback (no words) reaches
            QuestionIntent with all its words instead (how much of the exact-match gap is the
            fallback's)
  va        /work/shared/tools/va_client.js (virtual-alexa, whole-sample matching), talking to
            the checkout's lambda_handler through lambda_shim.py; the request it builds for
            each phrase is then replayed in the row's state (needs node and /tmp/va)

The data are the blind sets in tests/data/blind/ of THIS checkout; --root names the checkout
whose code and model are played (so the same sets score the old code: --root /work/wt/base,
run with that checkout's python). Parts b, e, g and h are holdouts: their figures only
(--misses refuses them). Dev-only; not part of CI.

usage: python tools/utterance_report.py [--root DIR] [--nlu straight,sim,sem] [--misses a]
       python tools/utterance_report.py --fillers --parts e,g   (counts only)
       python tools/utterance_report.py --carriers tools/carrier_families/openers.txt --parts e,g,h
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
DATA = HERE / "tests" / "data" / "blind"
SEM_PYTHON = os.environ.get("SEMNLU_PYTHON", "/tmp/semnlu-venv/bin/python")
SEM_SCRIPT = os.environ.get("SEMNLU_SCRIPT", "/work/shared/tools/semantic_nlu.py")
SHARED_TOOLS = Path(SEM_SCRIPT).parent
VA_NODE_MODULES = os.environ.get("VA_NODE_MODULES", "/tmp/va/node_modules")
LOCALE = "en-US"
# Parts whose misses may be read and tuned on, and the holdouts that are only ever scored.
TUNING_PARTS = ("a", "c", "d", "f")
HOLDOUT_PARTS = ("b", "e", "g", "h")
STATE_KEY = "pins_and_needles"

# The labelled intent for "straight into the intent".
JOB_INTENTS = {
    "why": "WhyLegFallsAsleepIntent", "stretch": "StartRoutineIntent",
    "doctor_check": "DoctorCheckIntent", "help": "AMAZON.HelpIntent",
    "stop": "AMAZON.StopIntent", "reminder_set": "SetMovementRemindersIntent",
    "reminder_list": "ListMovementRemindersIntent",
    "reminder_stop": "StopMovementRemindersIntent",
}
CONTROL_INTENTS = {
    "next": "AMAZON.NextIntent", "previous": "AMAZON.PreviousIntent",
    "repeat": "AMAZON.RepeatIntent", "pause": "AMAZON.PauseIntent",
    "resume": "AMAZON.ResumeIntent", "stop": "AMAZON.StopIntent", "skip": "SkipStepIntent",
    "steps_left": "StepsLeftIntent", "start_over": "AMAZON.StartOverIntent",
    "help": "AMAZON.HelpIntent", "yes": "AMAZON.YesIntent", "no": "AMAZON.NoIntent",
    "unsure": "UnsureIntent",
}
# Topics whose first passage explains why a leg falls asleep (the flagship and its causes).
WHY_TOPICS = {"why_it_happens", "causes", "what_it_is", "nerve_compression", "blood_flow",
              "situations", "seating_posture", "peripheral_nerves", "sensations"}
STRETCH_STEP = 2  # controls are heard at step 3 of 6 (0-based 2): back, next and skip all exist


def load(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def model_path(root: Path, locale: str = LOCALE) -> Path:
    """The generated model of `root`: skill-package/ (where the ASK CLI reads it), or the
    old interaction_models/<locale>.json of checkouts from before the single copy."""
    for candidate in (root / "skill-package" / "interactionModels" / "custom" / f"{locale}.json",
                      root / "interaction_models" / f"{locale}.json"):
        if candidate.exists():
            return candidate
    raise SystemExit(f"no generated interaction model under {root}")


# ----------------------------------------------------------------------------- NLUs


def resolve_sim(texts: list[str], root: Path) -> list[tuple[str, dict]]:
    nlu = simulator_module("nlu")

    resolver = nlu.load_resolver(LOCALE, str(model_path(root).parent))
    out = []
    for text in texts:
        resolution = resolver.resolve(text)
        out.append((resolution.intent, nlu.request_slots(resolution)))
    return out


def resolve_sem(texts: list[str], root: Path) -> list[tuple[str, dict]]:
    nlu = simulator_module("nlu")

    model = model_path(root)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
        for text in texts:
            handle.write(json.dumps({"text": text}) + "\n")
    try:
        run = subprocess.run([SEM_PYTHON, SEM_SCRIPT, "--model", str(model), "--file", handle.name],
                             capture_output=True, text=True, check=True)
    finally:
        os.unlink(handle.name)
    results = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert len(results) == len(texts), (len(results), len(texts), run.stderr[-2000:])
    resolver = nlu.load_resolver(LOCALE, str(model.parent))
    out = []
    for result in results:
        declared = dict(resolver.intents.get(result["intent"], {}))
        slots = {}
        for name, slot in (result.get("slots") or {}).items():
            entry = {"value": slot["value"], "type": declared.get(name, "AMAZON.SearchQuery")}
            if slot.get("id"):
                entry["matches"] = [{"id": slot["id"], "name": slot.get("resolved") or slot["value"]}]
            elif not entry["type"].startswith("AMAZON."):
                entry["matches"] = []
            slots[name] = entry
        resolution = nlu.Resolution(result["intent"], slots, declared, None, "")
        out.append((result["intent"], nlu.request_slots(resolution)))
    return out


def resolve_va(texts: list[str], root: Path) -> list[tuple[str, dict]]:
    """virtual-alexa's reading of each phrase: the IntentRequest it sends (one conversation
    a phrase, against the checkout's lambda_handler served by lambda_shim.py)."""
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    shim = subprocess.Popen([sys.executable, str(SHARED_TOOLS / "lambda_shim.py"), str(root),
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        with tempfile.TemporaryDirectory() as tmp:
            convs, dump = Path(tmp) / "convs.jsonl", Path(tmp) / "requests.jsonl"
            convs.write_text("".join(json.dumps({"id": f"u{i}", "turns": [t]}) + "\n"
                                     for i, t in enumerate(texts)))
            subprocess.run(["node", str(SHARED_TOOLS / "va_client.js"), "--model",
                            str(model_path(root)), "--url", f"http://127.0.0.1:{port}/",
                            "--conversations", str(convs), "--dump-requests", str(dump)],
                           env={**os.environ, "VA_NODE_MODULES": VA_NODE_MODULES},
                           capture_output=True, text=True, timeout=600)
            sent = [json.loads(line) for line in dump.read_text().splitlines() if line.strip()]
    finally:
        shim.terminate()
        shim.wait(timeout=10)
    by_conv = {d["conv"]: d["request"]["request"] for d in sent
               if d["request"]["request"].get("type") == "IntentRequest"}
    # A phrase virtual-alexa sends as something else ("exit" ends the session) counts as
    # not understood.
    fallback = {"intent": {"name": "AMAZON.FallbackIntent"}}
    requests = [by_conv.get(f"u{i}", fallback) for i in range(len(texts))]
    return [(r["intent"]["name"], r["intent"].get("slots") or {}) for r in requests]


def resolve_words(texts: list[str], root: Path) -> list[tuple[str, dict]]:
    return [("QuestionIntent", {"query": {"name": "query", "value": t}}) for t in texts]


def resolve_va_or_words(texts: list[str], root: Path) -> list[tuple[str, dict]]:
    words = resolve_words(texts, root)
    return [heard if heard[0] != "AMAZON.FallbackIntent" else said
            for heard, said in zip(resolve_va(texts, root), words)]


def resolve_straight(labels: list[str], table: dict) -> list[tuple[str, dict]]:
    return [(table.get(label, "AMAZON.FallbackIntent"), {}) for label in labels]


# ----------------------------------------------------------------------------- playing


def use_checkout(root: Path) -> None:
    """Put the checkout (and its Lambda entry) first on sys.path, so its code and its
    simulator are the ones played."""
    sys.path.insert(0, str(root / "lambda"))
    sys.path.insert(0, str(root))


def simulator_module(name: str):
    """The simulator's `name` module from the checkout on sys.path: `simulator/` now,
    `skill/hosting/` in older checkouts (first-contact figures come from those)."""
    import importlib

    try:
        return importlib.import_module(f"simulator.{name}")
    except ModuleNotFoundError:
        return importlib.import_module(f"skill.hosting.{name}")


class Player:
    """One simulated user per row, on the real lambda_handler, session-only memory."""

    def __init__(self, root: Path):
        for name in ("SKILL_TABLE", "SKILL_SQLITE_PATH", "SKILL_ID"):
            os.environ.pop(name, None)
        use_checkout(root)
        from lambda_function import lambda_handler
        Envelopes = simulator_module("envelopes").Envelopes

        self.handler = lambda_handler
        self.Envelopes = Envelopes

    def _send(self, envelopes, event) -> dict:
        response = self.handler(event, None)
        envelopes.carry(response)
        return response

    def setup(self, context: str):
        envelopes = self.Envelopes(locale=LOCALE, user_id=f"amzn1.ask.account.eval-{uuid.uuid4()}")
        self._send(envelopes, envelopes.launch())
        if context == "stretch":
            self._send(envelopes, envelopes.intent("StartRoutineIntent", {}))
            for _ in range(STRETCH_STEP):
                self._send(envelopes, envelopes.intent("AMAZON.NextIntent", {}))
        elif context == "check":
            self._send(envelopes, envelopes.intent("DoctorCheckIntent", {}))
        return envelopes

    def play(self, context: str, intent: str, slots: dict) -> tuple[dict, dict]:
        envelopes = self.setup(context)
        response = self._send(envelopes, envelopes.intent(intent, slots))
        state = (response.get("sessionAttributes") or {}).get(STATE_KEY) or {}
        return response, state


def _speech(response: dict) -> str:
    from skill.dialog import ssml

    body = response.get("response") or {}
    return ssml.to_plain_text((body.get("outputSpeech") or {}).get("ssml", "")).lower()


def _ends(response: dict) -> bool:
    return (response.get("response") or {}).get("shouldEndSession") is not False


def job_done(label: str, intent: str, response: dict, state: dict) -> bool:
    """Did the skill do the job the row asked for?"""
    speech = _speech(response)
    if label == "why":
        return state.get("topic") in WHY_TOPICS and not _ends(response)
    if label == "stretch":
        return state.get("mode") == "routine"
    if label == "doctor_check":
        return state.get("mode") == "doctor_check"
    if label == "help":
        return "try: why does my leg fall asleep" in speech
    if label == "stop":
        return _ends(response) and speech.startswith("goodbye")
    if label.startswith("reminder"):
        return intent == JOB_INTENTS[label] and "sorry" not in speech
    raise ValueError(label)


def control_done(context: str, label: str, response: dict, state: dict) -> bool:
    """Did the control do what it says, where it was said?"""
    speech = _speech(response)
    if context == "check":
        doctor = state.get("doctor") or {}
        if label in ("yes", "unsure"):  # the first question is facial drooping: emergency
            return "call 911" in speech
        if label == "no":
            return state.get("mode") == "doctor_check" and doctor.get("step") == 1
        if label == "repeat":
            return (state.get("mode") == "doctor_check" and doctor.get("step") == 0
                    and "face" in speech)
        if label == "stop":
            return _ends(response) and "911" not in speech
        raise ValueError(label)
    routine = state.get("routine") or {}
    live = state.get("mode") == "routine" and not _ends(response)
    step = routine.get("step")
    if label in ("next", "skip"):
        return live and step == STRETCH_STEP + 1
    if label == "previous":
        return live and step == STRETCH_STEP - 1
    if label == "repeat":
        return live and step == STRETCH_STEP and f"step {STRETCH_STEP + 1} of" in speech
    if label == "resume":  # carry on: this step again, or the next (the routine's own resume)
        return (live and step in (STRETCH_STEP, STRETCH_STEP + 1) and not routine.get("paused")
                and f"step {step + 1} of" in speech)
    if label in ("pause", "stop"):  # both keep the place and end the session
        return _ends(response) and step == STRETCH_STEP and bool(routine.get("paused"))
    if label == "start_over":
        return live and step == 0
    if label == "steps_left":
        return live and step == STRETCH_STEP and "more" in speech and f"step {STRETCH_STEP + 1}" in speech
    if label == "help":
        return live and step == STRETCH_STEP and "say next to move on" in speech
    raise ValueError(label)


# ----------------------------------------------------------------------------- report


def evaluate(root: Path, nlu_name: str, part: str, player: Player) -> dict:
    jobs, controls = load(f"jobs_{part}.tsv"), load(f"controls_{part}.tsv")
    if nlu_name == "straight":
        job_res = resolve_straight([r["job"] for r in jobs], JOB_INTENTS)
        control_res = resolve_straight([r["label"] for r in controls], CONTROL_INTENTS)
    else:
        resolve = {"sim": resolve_sim, "sem": resolve_sem, "va": resolve_va, "words": resolve_words,
                   "va+words": resolve_va_or_words}[nlu_name]
        job_res = resolve([r["text"] for r in jobs], root)
        control_res = resolve([r["text"] for r in controls], root)
    rows = []
    for row, (intent, slots) in zip(jobs, job_res):
        response, state = player.play("idle", intent, slots)
        rows.append({"set": "jobs", "text": row["text"], "label": row["job"], "context": "idle",
                     "intent": intent, "ok": job_done(row["job"], intent, response, state),
                     "heard": _speech(response)[:90]})
    for row, (intent, slots) in zip(controls, control_res):
        response, state = player.play(row["context"], intent, slots)
        rows.append({"set": "controls", "text": row["text"], "label": row["label"],
                     "context": row["context"], "intent": intent,
                     "ok": control_done(row["context"], row["label"], response, state),
                     "heard": _speech(response)[:90]})
    return {"rows": rows}


def summary(rows: list[dict]) -> dict[str, str]:
    def score(selected):
        return f"{sum(r['ok'] for r in selected)}/{len(selected)}"

    jobs = [r for r in rows if r["set"] == "jobs"]
    controls = [r for r in rows if r["set"] == "controls"]
    return {
        "jobs": score(jobs),
        "jobs w/o reminders": score([r for r in jobs if not r["label"].startswith("reminder")]),
        "mid-stretch": score([r for r in controls if r["context"] == "stretch"]),
        "mid-check": score([r for r in controls if r["context"] == "check"]),
    }


# Words people put before or after what they mean; --fillers cuts them off the ends.
OPENERS = frozenset("""um uh er erm hmm oh ok okay so right alright well hey yo wait huh ah ag yeah
    yep please kindly look listen and but now then mate bro dear love lowkey honestly like just
    sorry cheers ta hun pet man""".split())
CLOSERS = frozenset("""please thanks thank you mate dear love then now ta hey bro eh yeah ok okay
    ngl so cheers pet hun lad there today would could ya will""".split())


def without_fillers(text: str) -> str:
    words = text.split()
    while len(words) > 1 and words[0] in OPENERS:
        words = words[1:]
    while len(words) > 1 and words[-1] in CLOSERS:
        words = words[:-1]
    return " ".join(words)


def sim_fallbacks(texts: list[str], root: Path) -> list[str]:
    """The texts the simulator's exact matcher sends to the fallback (no words reach us)."""
    return [text for text, (intent, _) in zip(texts, resolve_sim(texts, root))
            if intent == "AMAZON.FallbackIntent"]


def filler_check(root: Path, part: str) -> str:
    """Counts only (safe for a holdout): of the part's phrases the exact matcher sends to the
    fallback, how many have a filler at an end, and how many match a sample once it is cut."""
    rows = load(f"jobs_{part}.tsv") + load(f"controls_{part}.tsv")
    missed = sim_fallbacks([row["text"] for row in rows], root)
    cut = [without_fillers(text) for text in missed]
    rescued = sum(intent != "AMAZON.FallbackIntent" for intent, _ in resolve_sim(cut, root))
    with_filler = sum(a != b for a, b in zip(missed, cut))
    return (f"{part}: {len(rows)} phrases, {len(missed)} to the fallback (sim), {with_filler} "
            f"with a filler at an end, {rescued} match once the fillers are cut")


def carrier_reach(root: Path, part: str, carriers_file: Path) -> str:
    """Counts only (safe for a holdout): of the part's phrases the exact matcher sends to the
    fallback, how many would match once QuestionIntent also had the file's carrier samples.
    A family that reaches few of a holdout's fallbacks will not close the exact-match gap;
    the job rows it reaches bound what it could add to the jobs figure."""
    nlu = simulator_module("nlu")
    carriers = [line.strip() for line in carriers_file.read_text("utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
    model = json.loads(model_path(root).read_text("utf-8"))
    for intent in model["interactionModel"]["languageModel"]["intents"]:
        if intent["name"] == "QuestionIntent":
            intent["samples"] = intent["samples"] + carriers
    widened = nlu.Resolver(model)
    said = []
    for kind in ("jobs", "controls"):
        texts = [r["text"] for r in load(f"{kind}_{part}.tsv")
                 if not r.get("job", "").startswith("reminder")]
        missed = sim_fallbacks(texts, root)
        reached = sum(widened.resolve(text).intent == "QuestionIntent" for text in missed)
        said.append(f"{kind} {reached} of {len(missed)} fallbacks ({len(texts)} phrases)")
    return f"{part}: {carriers_file.name} ({len(carriers)} carriers) reaches " + ", ".join(said)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=HERE, help="the checkout to play")
    parser.add_argument("--nlu", default="straight,sim,sem")
    parser.add_argument("--parts", default="a,b")
    parser.add_argument("--misses", choices=TUNING_PARTS,
                        help="list the misses of a tuning part (never of a holdout: "
                             + ", ".join(HOLDOUT_PARTS) + ")")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--fillers", action="store_true",
                        help="only say how many fallbacks are fillers around a known phrase")
    parser.add_argument("--carriers", type=Path, metavar="FILE",
                        help="only say how many fallbacks these QuestionIntent carrier samples "
                             "would reach (tools/carrier_families/)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.carriers:
        use_checkout(root)
        for part in args.parts.split(","):
            print(carrier_reach(root, part, args.carriers.resolve()))
        return 0
    if args.fillers:
        use_checkout(root)
        for part in args.parts.split(","):
            print(filler_check(root, part))
        return 0
    player = Player(root)
    table = {}
    for part in args.parts.split(","):
        for nlu_name in args.nlu.split(","):
            result = evaluate(root, nlu_name, part, player)
            table[f"{part} {nlu_name}"] = summary(result["rows"])
            if args.misses == part and part not in HOLDOUT_PARTS:
                for row in result["rows"]:
                    if not row["ok"]:
                        print(f"MISS {nlu_name} {row['context']:7} {row['label']:12} "
                              f"{row['text']!r} -> {row['intent']} | {row['heard']}")
    if args.json:
        print(json.dumps(table, indent=1))
    else:
        print(f"checkout: {root}   model: {model_path(root).relative_to(root)}")
        print(f"{'part nlu':14}" + "".join(f"{k:>20}" for k in next(iter(table.values()))))
        for key, figures in table.items():
            print(f"{key:14}" + "".join(f"{v:>20}" for v in figures.values()))
    return 0


if __name__ == "__main__":
    logging_off = __import__("logging")
    logging_off.disable(logging_off.CRITICAL)
    sys.exit(main())
