"""What the red-flag detector costs: the first free-text request in a cold process, and warm.

Why: issue 8's runtime budget. The detector (skill/dialog/suspicion.py) loads numpy,
`tokenizers`, the static model and the bank's vectors on its first call, so the first
request that carries free text in a new Lambda container pays once (budget: at most 1 s
more); every later call is a tokenisation, a mean of rows and one matrix-vector product
(budget: well under 10 ms). This prints, each in fresh interpreters (median of --fresh):
- the import of skill.dialog.suspicion (should be ~nothing: no numpy at import);
- the first suspect() call, split into importing numpy + tokenizers, loading the model,
  and encoding the bank;
- for scale, a hello-world ask-sdk-core skill's cold start (import + one LaunchRequest)
  in the same run, and the ratio of the detector's first call to it;
wall and CPU time; then warm suspect() over the texts of the labelled triage set: median, p99, max, and a
2,000-character text. Plus the model's size on disk. Numbers, not assertions.

Usage: python bench/detector_cost.py [--fresh N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LABELLED = ROOT / "tests" / "data" / "triage_labelled.tsv"

_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
t0, c0 = time.perf_counter(), time.process_time()
from skill.dialog import suspicion, embedding
t1, c1 = time.perf_counter(), time.process_time()
import numpy, tokenizers
t2 = time.perf_counter()
embedding.model()
t3 = time.perf_counter()
found = suspicion.suspect("my leg fell asleep on the train and now I can't lift my foot")
t4, c4 = time.perf_counter(), time.process_time()
print(json.dumps({"import": t1 - t0, "libraries": t2 - t1, "model": t3 - t2, "bank": t4 - t3,
                  "first_call": t4 - t1, "first_call_cpu": c4 - c1,
                  "found": found.flag if found else None}))
"""

_HELLO = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
t0, c0 = time.perf_counter(), time.process_time()
import hello_world_skill
event = {"version": "1.0", "session": {"new": True, "sessionId": "s",
         "application": {"applicationId": "a"}, "user": {"userId": "u"}},
         "context": {"System": {"application": {"applicationId": "a"}, "user": {"userId": "u"},
                     "device": {"deviceId": "d", "supportedInterfaces": {}}}},
         "request": {"type": "LaunchRequest", "requestId": "r",
                     "timestamp": "2024-01-01T00:00:00Z", "locale": "en-US"}}
hello_world_skill.lambda_handler(event, None)
print(json.dumps({"cold": time.perf_counter() - t0, "cold_cpu": time.process_time() - c0}))
"""


def fresh(code: str, path: Path, runs: int) -> list[dict]:
    out = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                              text=True, check=True)
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fresh", type=int, default=5, help="fresh interpreters per figure")
    args = parser.parse_args(argv)

    fresh(_CHILD, ROOT, 1)  # warm the page cache, as a deployed container's disk is
    cold = fresh(_CHILD, ROOT, args.fresh)
    hello = fresh(_HELLO, ROOT / "bench", args.fresh)

    def median(key: str, rows=cold) -> float:
        return statistics.median(row[key] for row in rows)

    print(f"cold, median of {args.fresh} fresh interpreters")
    print(f"  import skill.dialog.suspicion  {ms(median('import'))}")
    print(f"  first suspect() call           {ms(median('first_call'))}")
    print(f"    numpy + tokenizers import    {ms(median('libraries'))}")
    print(f"    model load                   {ms(median('model'))}")
    print(f"    bank encoding + first call   {ms(median('bank'))}")
    hello_cold = median("cold", hello)
    print(f"  hello-world skill cold start   {ms(hello_cold)}  (same run)")
    print(f"  first call / hello-world cold  {median('first_call') / hello_cold:8.2f} x")
    # CPU time is steadier than wall time when other work shares the machine
    print(f"  first call, CPU time           {ms(median('first_call_cpu'))}   hello-world cold "
          f"start, CPU time {ms(median('cold_cpu', hello))}")

    from skill.dialog import suspicion

    suspicion.warm_up()
    texts = [line.split("\t", 1)[0] for line in LABELLED.read_text("utf-8").splitlines()
             if line and not line.startswith("#")]
    timings, cpu = [], []
    for text in texts:
        start, start_cpu = time.perf_counter(), time.process_time()
        suspicion.suspect(text)
        timings.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    timings.sort()
    cpu.sort()
    long_text = ("my leg fell asleep while I was sitting and " * 50)[:2000]
    start, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(20):
        suspicion.suspect(long_text)
    long_ms = (time.perf_counter() - start) / 20
    long_cpu = (time.process_time() - start_cpu) / 20
    print(f"\nwarm suspect() over {len(texts)} labelled texts")
    print(f"  median {ms(statistics.median(timings))}   p99 "
          f"{ms(timings[int(len(timings) * 0.99)])}   max {ms(timings[-1])}")
    print(f"  CPU time: median {ms(statistics.median(cpu))}   p99 "
          f"{ms(cpu[int(len(cpu) * 0.99)])}   max {ms(cpu[-1])}")
    print(f"  2,000-character text           {ms(long_ms)}   CPU time {ms(long_cpu)}")

    model_dir = ROOT / "skill" / "dialog" / "model"
    size = sum(p.stat().st_size for p in model_dir.iterdir())
    print(f"\nmodel on disk: {size / 2**20:.1f} MiB in {model_dir.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
