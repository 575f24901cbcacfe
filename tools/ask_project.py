"""The ASK CLI's per-developer files: `.ask/ask-states.json` and runnable replay files.

ASK CLI v2 reads the skill id from `.ask/ask-states.json` (profiles.<profile>.skillId),
not from `ask-resources.json`; without it, `ask deploy` creates a NEW skill instead of
updating yours. The id belongs to your developer account, so `.ask/` is not committed:
this tool writes it.

`ask dialog --replay FILE` needs the skill id inside each replay file too. The flows live
in `replay/*.json` with an empty `skillId` and our own `expect` list (one phrase per user
input that the answer must contain; the ASK CLI ignores keys it does not know);
`init` writes runnable copies with your id to `.ask/replay/`, and `smoke` plays each one
against the deployed skill with the ASK CLI and checks the answers.

Usage::

    python tools/ask_project.py init --skill-id amzn1.ask.skill.xxxx   # once per clone
    python tools/ask_project.py smoke [--ask PATH]                     # after ask deploy
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPLAY_SOURCES = ROOT / "replay"
STATES_VERSION = "2020-03-31"  # askcliStatesVersion that ASK CLI v2 writes
SKILL_ID = re.compile(r"^amzn1\.ask\.skill\.[0-9a-fA-F-]+$")
ASK_KEYS = ("skillId", "locale", "type", "userInput")  # what `ask dialog --replay` reads


def states_path(root: Path = ROOT) -> Path:
    return root / ".ask" / "ask-states.json"


def write_states(skill_id: str, profile: str = "default", root: Path = ROOT) -> Path:
    """Set profiles.<profile>.skillId, keeping whatever else the ASK CLI stored there."""
    if not SKILL_ID.match(skill_id):
        raise SystemExit(f"not a skill id: {skill_id!r} (expected amzn1.ask.skill.<uuid>)")
    path = states_path(root)
    states = json.loads(path.read_text("utf-8")) if path.exists() else {}
    states.setdefault("askcliStatesVersion", STATES_VERSION)
    states.setdefault("profiles", {}).setdefault(profile, {})["skillId"] = skill_id
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(states, indent=2) + "\n", "utf-8")
    return path


def read_skill_id(profile: str = "default", root: Path = ROOT) -> str:
    path = states_path(root)
    try:
        return json.loads(path.read_text("utf-8"))["profiles"][profile]["skillId"]
    except (OSError, KeyError, ValueError):
        raise SystemExit(f"no skill id in {path}: run `tools/ask_project.py init "
                         "--skill-id amzn1.ask.skill.…` first") from None


def replay_flows(sources: Path = REPLAY_SOURCES) -> dict[str, dict]:
    """Every flow in replay/, checked: one expected phrase per user input."""
    flows = {}
    for path in sorted(sources.glob("*.json")):
        flow = json.loads(path.read_text("utf-8"))
        if len(flow["expect"]) != len(flow["userInput"]):
            raise SystemExit(f"{path}: 'expect' needs one phrase per userInput")
        flows[path.stem] = flow
    return flows


def write_replays(skill_id: str, root: Path = ROOT, sources: Path = REPLAY_SOURCES
                  ) -> list[Path]:
    """Runnable copies of the flows in .ask/replay/, with the skill id filled in."""
    target = root / ".ask" / "replay"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, flow in replay_flows(sources).items():
        runnable = {key: flow[key] for key in ASK_KEYS} | {"skillId": skill_id}
        path = target / f"{name}.json"
        path.write_text(json.dumps(runnable, indent=2) + "\n", "utf-8")
        written.append(path)
    return written


def answers_in(skill_io: dict) -> list[str]:
    """The text of each answer in an `ask dialog --save-skill-io` file, lowercased."""
    return [json.dumps(invocation.get("response", {})).lower()
            for invocation in skill_io.get("invocations", [])]


def check_flow(flow: dict, skill_io: dict) -> list[str]:
    """What went wrong in one replayed flow (empty when every answer had its phrase)."""
    answers = answers_in(skill_io)
    problems = []
    for number, (said, phrase) in enumerate(zip(flow["userInput"], flow["expect"]), 1):
        if number > len(answers):
            problems.append(f"turn {number} ({said!r}): no answer")
        elif phrase.lower() not in answers[number - 1]:
            problems.append(f"turn {number} ({said!r}): expected {phrase!r}")
    return problems


def smoke(ask: str, root: Path = ROOT) -> int:
    """Play every flow against the deployed skill; print and count the failures."""
    skill_id = read_skill_id(root=root)
    failures = 0
    for path, (name, flow) in zip(write_replays(skill_id, root), replay_flows().items()):
        io_path = path.with_suffix(".io.json")
        io_path.unlink(missing_ok=True)
        subprocess.run([ask, "dialog", "--replay", str(path), "--save-skill-io", str(io_path)],
                       check=False, stdin=subprocess.DEVNULL)
        skill_io = json.loads(io_path.read_text("utf-8")) if io_path.exists() else {}
        problems = check_flow(flow, skill_io)
        failures += bool(problems)
        print(f"{'FAIL' if problems else 'ok  '} {name}", *problems, sep="\n     ")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ask_project", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init", help="write .ask/ask-states.json and .ask/replay/")
    init.add_argument("--skill-id", required=True)
    init.add_argument("--profile", default="default", help="ASK CLI profile (default: %(default)s)")
    run = commands.add_parser("smoke", help="replay every flow against the deployed skill")
    run.add_argument("--ask", default=shutil.which("ask") or "ask", help="the ask executable")
    args = parser.parse_args(argv)
    if args.command == "init":
        print(f"wrote {write_states(args.skill_id, args.profile).relative_to(ROOT)}")
        for path in write_replays(args.skill_id):
            print(f"wrote {path.relative_to(ROOT)}")
        return 0
    return smoke(args.ask)


if __name__ == "__main__":
    sys.exit(main())
