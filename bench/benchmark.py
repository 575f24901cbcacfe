"""Benchmark the Lambda entry against a minimal ask-sdk-core hello-world skill, same run.

Measures, for both skills, with the same interpreter and the same request envelopes:
- cold start: a new process that imports the Lambda entry and answers one LaunchRequest
  (timed inside the process from before the import to after the answer, and also as
  whole-process wall time, interpreter start included);
- warm latency: p50/p99 per request type, in one process, after a warm-up;
- peak memory: max RSS of a new process that imports the entry and answers every request
  type once.
Results are printed as a table of ratios (ours / hello world); targets are cold start
<= 1.2x, warm p50 <= 2x, peak memory <= 1.5x. Numbers, not assertions: tests never time.

Usage: python bench/benchmark.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "lambda"))
sys.path.insert(0, str(ROOT / "bench"))

from simulator.envelopes import Envelopes  # noqa: E402

OURS = ("lambda_function", str(ROOT / "lambda"))
HELLO = ("hello_world_skill", str(ROOT / "bench"))

# Free text is different in every real request, so these slot values get a distinct
# suffix per request in the warm loop: no cache inside the skill can flatter the figure.
VARYING_SLOTS = {"QuestionIntent": "query", "SymptomStoryIntent (red flag)": "description"}


# Our request types, each paired with the hello-world request it is compared with.
def our_events() -> dict[str, dict]:
    from simulator import nlu

    env = Envelopes(locale="en-US", user_id="amzn1.ask.account.bench")
    search = {"query": {"name": "query", "value": "does sitting cross legged pinch a nerve"}}
    topic = nlu.request_slots(nlu.load_resolver("en-US").resolve("tell me about sciatica"))
    return {
        "LaunchRequest": env.launch(),
        "WhyLegFallsAsleepIntent": env.intent("WhyLegFallsAsleepIntent", {}),
        "TopicIntent": env.intent("TopicIntent", topic),
        "QuestionIntent": env.intent("QuestionIntent", search),
        "DoctorCheckIntent": env.intent("DoctorCheckIntent", {}),
        "StartRoutineIntent": env.intent("StartRoutineIntent", {}),
        "SymptomStoryIntent (red flag)": env.intent(
            "SymptomStoryIntent",
            {"description": {"name": "description", "value": "my face is drooping"}}),
        "AMAZON.HelpIntent": env.intent("AMAZON.HelpIntent", {}),
        "SessionEndedRequest": env.session_ended("USER_INITIATED"),
    }


def hello_events() -> dict[str, dict]:
    env = Envelopes(locale="en-US", user_id="amzn1.ask.account.bench")
    return {
        "LaunchRequest": env.launch(),
        "HelloWorldIntent": env.intent("HelloWorldIntent", {}),
        "AMAZON.HelpIntent": env.intent("AMAZON.HelpIntent", {}),
        "SessionEndedRequest": env.session_ended("USER_INITIATED"),
    }


def baseline_for(name: str) -> str:
    if name in ("LaunchRequest", "AMAZON.HelpIntent", "SessionEndedRequest"):
        return name
    return "HelloWorldIntent"


CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, sys.argv[2])
module = __import__(sys.argv[1])
events = json.loads(sys.stdin.read())
for event in events:
    module.lambda_handler(event, None)
elapsed = time.perf_counter() - t0
# VmHWM, not ru_maxrss: ru_maxrss survives exec and so counts the forking parent's size.
peak = next(int(line.split()[1]) for line in open("/proc/self/status")
            if line.startswith("VmHWM:"))
print(json.dumps({"seconds": elapsed, "maxrss_kb": peak}))
"""


def child_env() -> dict:
    env = dict(os.environ)
    for name in ("SKILL_TABLE", "SKILL_SQLITE_PATH", "SKILL_ID"):
        env.pop(name, None)  # the Lambda default: no configuration at all
    # Both skills run from compiled bytecode, as a deployed bundle with .pyc files would:
    # with PYTHONDONTWRITEBYTECODE set (it is, on this machine) every cold start would
    # also time compiling our sources, but not the installed SDK's.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # Log lines would measure the terminal, not the skill (hello world logs nothing).
    env["LOG_LEVEL"] = "WARNING"
    env["PYTHONPATH"] = str(ROOT)
    return env


def run_child(entry: tuple[str, str], events: list[dict]) -> dict:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, *entry], input=json.dumps(events),
                          capture_output=True, text=True, env=child_env(), check=True)
    wall = time.perf_counter() - start
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result


def cold_start(runs: int) -> dict:
    ours, hello = [], []
    launch_ours = [our_events()["LaunchRequest"]]
    launch_hello = [hello_events()["LaunchRequest"]]
    run_child(OURS, launch_ours)  # untimed: writes the bytecode caches
    run_child(HELLO, launch_hello)
    for _ in range(runs):  # interleaved, so machine noise hits both alike
        ours.append(run_child(OURS, launch_ours))
        hello.append(run_child(HELLO, launch_hello))
    pick = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
    return {
        "ours_s": pick(ours, "seconds"), "hello_s": pick(hello, "seconds"),
        "ours_wall_s": pick(ours, "wall"), "hello_wall_s": pick(hello, "wall"),
    }


def peak_memory(runs: int) -> dict:
    ours = [run_child(OURS, list(our_events().values()))["maxrss_kb"] for _ in range(runs)]
    hello = [run_child(HELLO, list(hello_events().values()))["maxrss_kb"] for _ in range(runs)]
    return {"ours_kb": statistics.median(ours), "hello_kb": statistics.median(hello)}


def warm_latency(iterations: int) -> dict:
    os.environ["LOG_LEVEL"] = "WARNING"
    for name in ("SKILL_TABLE", "SKILL_SQLITE_PATH", "SKILL_ID"):
        os.environ.pop(name, None)
    import hello_world_skill
    import lambda_function

    def variants(name: str, event: dict, count: int) -> list[dict]:
        slot = VARYING_SLOTS.get(name)
        if slot is None:
            return [event] * count
        out = []
        for i in range(count):
            copy = json.loads(json.dumps(event))
            value = copy["request"]["intent"]["slots"][slot]
            value["value"] = f"{value['value']} {i}"
            out.append(copy)
        return out

    def measure(handler, name, event) -> tuple[float, float]:
        warmup = max(20, iterations // 20)
        events = variants(name, event, warmup + iterations)
        for e in events[:warmup]:
            handler(e, None)
        samples = []
        for e in events[warmup:]:
            t = time.perf_counter_ns()
            handler(e, None)
            samples.append(time.perf_counter_ns() - t)
        samples.sort()
        return samples[len(samples) // 2] / 1e6, samples[int(len(samples) * 0.99)] / 1e6

    hello = {name: measure(hello_world_skill.lambda_handler, name, event)
             for name, event in hello_events().items()}
    ours = {name: measure(lambda_function.lambda_handler, name, event)
            for name, event in our_events().items()}
    return {"ours": ours, "hello": hello}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, for a smoke test")
    parser.add_argument("--json", help="also write the raw figures to this file")
    args = parser.parse_args(argv)
    runs, iterations = (3, 200) if args.quick else (15, 2000)

    cold = cold_start(runs)
    memory = peak_memory(max(3, runs // 3))
    warm = warm_latency(iterations)

    print(f"Python {sys.version.split()[0]}; {runs} cold starts each, {iterations} warm requests"
          " per type; ratios are ours / hello world\n")
    print("| measure | Pins & Needles | hello world | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| cold start (import + LaunchRequest, in process) | {cold['ours_s'] * 1000:.1f} ms "
          f"| {cold['hello_s'] * 1000:.1f} ms | {cold['ours_s'] / cold['hello_s']:.2f}x | <= 1.2x |")
    print(f"| cold start (whole process, interpreter included) | {cold['ours_wall_s'] * 1000:.1f} ms "
          f"| {cold['hello_wall_s'] * 1000:.1f} ms | {cold['ours_wall_s'] / cold['hello_wall_s']:.2f}x "
          "| — |")
    print(f"| peak memory (every request type once) | {memory['ours_kb'] / 1024:.1f} MB "
          f"| {memory['hello_kb'] / 1024:.1f} MB | {memory['ours_kb'] / memory['hello_kb']:.2f}x "
          "| <= 1.5x |")
    for name, (p50, p99) in warm["ours"].items():
        base = baseline_for(name)
        h50, h99 = warm["hello"][base]
        print(f"| warm {name} p50 / p99 (vs {base}) | {p50:.2f} / {p99:.2f} ms "
              f"| {h50:.2f} / {h99:.2f} ms | {p50 / h50:.2f}x / {p99 / h99:.2f}x | p50 <= 2x |")
    if args.json:
        Path(args.json).write_text(json.dumps({"cold": cold, "memory": memory, "warm": warm},
                                              indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
