"""Load-test the web service against the hello-world baseline, verification ON.

    python bench/loadtest.py [--duration 30] [--rounds 3] [--concurrency 16 64]
                             [--workers 2] [--threads 4] [--tool auto|wrk|python]
                             [--no-verify-baseline] [--json out.json]

Why: the target is relative -- Pins & Needles served by `skill.hosting.serve` must reach
>= 0.8x the requests/s of Amazon's hello-world ask-sdk-core skill served the same way
(same waitress settings, same verification, same request shape). Timing belongs here,
not in tests.

How: each run starts `python -m skill.hosting.serve` on 127.0.0.1 with the generated test
PKI (ALEXA_TRUST_BUNDLE + a loopback chain server via ALEXA_CERT_CHAIN_ORIGIN), so every
request has its Signature-256 checked against a cached chain exactly as in production.
Request bodies are distinct LaunchRequests (own request, session and user ids), each
signed with the test leaf key just before its run so timestamps stay within 150 s. Every
run gets users the server has never seen: the first request of each body is a first visit
(Pins & Needles reads and writes its SQLite memory), and wrk's later passes over the same
bodies are returning visits (memory read, nothing to write). The report gives the share of
first visits; `--bodies` at or above the requests of a round makes every request one.
The client is wrk (Debian package `wrk`, C, event-driven: it does not bottleneck before
the server) when installed, else a bounded keep-alive thread client in Python (slower;
the report says which). All traffic stays on loopback and every run stops by itself.
Errors (any non-200, socket error or timeout) must be 0. Beside req/s it reports the CPU
the servers spent per request (from /proc): other work on a shared machine takes cores
away and swings req/s from round to round, but changes CPU per request much less.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
import certs  # noqa: E402  (the test PKI: generated, throw-away)

BASELINE = "bench.hello_world_skill:build_skill"
ENV_DROP = ("ASK_SDK_VERIFY_SIGNATURE", "ASK_SDK_VERIFY_TIMESTAMP", "SKILL_ID",
            "ALEXA_TRUST_BUNDLE", "ALEXA_CERT_CHAIN_ORIGIN", "SKILL_TABLE")

WRK_SCRIPT = r"""
-- Cycle through pre-signed Alexa requests: one "sig<TAB>body" per line.
local reqs = {}
local idx = 0
init = function(args)
  local url = args[2]
  for line in io.lines(args[1]) do
    local sig, body = line:match("^([^\t]*)\t(.*)$")
    reqs[#reqs + 1] = wrk.format("POST", "/", {
      ["Content-Type"] = "application/json; charset=utf-8",
      ["SignatureCertChainUrl"] = url,
      ["Signature-256"] = sig}, body)
  end
  idx = math.random(#reqs)
end
request = function()
  idx = idx % #reqs + 1
  return reqs[idx]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\"requests\":%d,\"duration_us\":%d,\"p50_us\":%d,\"p99_us\":%d," ..
    "\"connect\":%d,\"read\":%d,\"write\":%d,\"status\":%d,\"timeout\":%d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def free_port() -> int:
    return certs.free_port()


def start_server(*, skill: str | None, workers: int, threads: int, verify: bool,
                 env: dict[str, str], log_path: Path) -> certs.ServeProcess:
    """`python -m skill.hosting.serve` on loopback, as the live-server tests start it."""
    args = ["--workers", str(workers), "--threads", str(threads)]
    if skill:
        args += ["--skill", skill]
    if not verify:
        args.append("--no-verify")
    return certs.ServeProcess(args, env, log_path)


def signed_requests(pki: certs.Pki, n: int) -> list[tuple[str, bytes]]:
    """n distinct LaunchRequests from n users no earlier call used, each signed now
    (timestamps valid for 150 s)."""
    batch = uuid.uuid4().hex[:12]  # fixed ids would make every run after the first
    out = []                       # a run of returning users, with nothing to write
    for i in range(n):
        env = certs.envelope(user_id=f"amzn1.ask.account.LOADTEST{batch}{i:06d}")
        body = certs.body_of(env)
        out.append((pki.sign(body), body))
    return out


def run_wrk(port: int, reqs: list[tuple[str, bytes]], concurrency: int, duration: float,
            workdir: Path) -> dict:
    script = workdir / "alexa.lua"
    script.write_text(WRK_SCRIPT)
    data = workdir / "requests.tsv"
    data.write_bytes(b"".join(sig.encode() + b"\t" + body + b"\n" for sig, body in reqs))
    threads = max(1, min(os.cpu_count() or 1, concurrency))
    proc = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(duration))}s",
         "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{port}/", "--",
         str(data), certs.CHAIN_URL],
        capture_output=True, text=True, timeout=duration + 60)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {proc.stdout}\n{proc.stderr}")
    raw = json.loads(line[len("WRKJSON "):])
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    seconds = raw["duration_us"] / 1e6
    return {"requests": raw["requests"], "rps": raw["requests"] / seconds,
            "p50_ms": raw["p50_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
            "errors": errors, "error_detail": {k: raw[k] for k in
                                               ("connect", "read", "write", "status",
                                                "timeout")}}


def run_python(port: int, reqs: list[tuple[str, bytes]], concurrency: int,
               duration: float) -> dict:
    """Fallback client: `concurrency` threads, each a keep-alive loop, for `duration` s."""
    stop_at = time.monotonic() + duration
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency

    def client(slot: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        i = slot
        while time.monotonic() < stop_at:
            sig, body = reqs[i % len(reqs)]
            i += concurrency
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/", body, {
                    "Content-Type": "application/json", "Signature-256": sig,
                    "SignatureCertChainUrl": certs.CHAIN_URL})
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    errors[slot] += 1
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            except OSError:
                errors[slot] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            latencies[slot].append(time.perf_counter() - t0)
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(s,)) for s in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    flat = sorted(x for lat in latencies for x in lat)
    q = statistics.quantiles(flat, n=100) if len(flat) > 1 else [0.0] * 99
    return {"requests": len(flat), "rps": len(flat) / elapsed, "p50_ms": q[49] * 1000,
            "p99_ms": q[98] * 1000, "errors": sum(errors)}


def run_once(tool: str, port: int, reqs, concurrency: int, duration: float,
             workdir: Path) -> dict:
    if tool == "wrk":
        return run_wrk(port, reqs, concurrency, duration, workdir)
    return run_python(port, reqs, concurrency, duration)


def _tree_proc_files(pid: int, name: str):
    """The text of /proc/<p>/<name> for a server process and each of its workers."""
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            text = Path(f"/proc/{current}/{name}").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        yield text
        todo.extend(int(child) for child in children)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a server process and its workers (Linux /proc), in MB."""
    return sum(next((int(line.split()[1]) for line in status.splitlines()
                     if line.startswith("VmRSS:")), 0)
               for status in _tree_proc_files(pid, "status")) / 1024


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a server process and its workers so far (Linux /proc)."""
    ticks = 0
    for stat in _tree_proc_files(pid, "stat"):
        fields = stat.rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def measure_all(targets: dict[str, certs.ServeProcess], *, args, pki: certs.Pki, workdir: Path,
                tool: str) -> list[dict]:
    """For each concurrency: warm every server, then `rounds` interleaved runs each.

    Interleaving (A B, B A, A B ...) spreads background noise on a shared 2-core machine
    over all targets instead of letting it land on one. Totals: requests / seconds over
    the rounds; p50 is the median of the rounds' p50s, p99 the worst round's p99.
    """
    rows = []
    per_round = args.duration / args.rounds
    memory: dict[str, list[float]] = {label: [] for label in targets}
    for concurrency in args.concurrency:
        for label, server in targets.items():
            warm = run_once(tool, server.port, signed_requests(pki, args.bodies),
                            concurrency, args.warmup, workdir)
            if warm["errors"]:
                raise RuntimeError(f"{label}: errors during warm-up: {warm}")
            memory[label].append(tree_rss_mb(server.proc.pid))
        results: dict[str, list[dict]] = {label: [] for label in targets}
        order = list(targets)
        for r in range(args.rounds):
            for label in (order if r % 2 == 0 else order[::-1]):
                reqs = signed_requests(pki, args.bodies)  # fresh timestamps every run
                cpu_before = tree_cpu_seconds(targets[label].proc.pid)
                run = run_once(tool, targets[label].port, reqs, concurrency, per_round,
                               workdir)
                run["cpu_s"] = tree_cpu_seconds(targets[label].proc.pid) - cpu_before
                results[label].append(run)
        for label, server in targets.items():
            memory[label].append(tree_rss_mb(server.proc.pid))
        for label, runs in results.items():
            seconds = sum(run["requests"] / run["rps"] for run in runs if run["rps"])
            row = {"label": label, "concurrency": concurrency,
                   "requests": sum(run["requests"] for run in runs),
                   "rps": sum(run["requests"] for run in runs) / seconds,
                   "p50_ms": statistics.median(run["p50_ms"] for run in runs),
                   "p99_ms": max(run["p99_ms"] for run in runs),
                   "errors": sum(run["errors"] for run in runs),
                   "rounds_rps": [round(run["rps"]) for run in runs],
                   "first_visits": sum(min(args.bodies, run["requests"]) for run in runs)
                   / max(1, sum(run["requests"] for run in runs)),
                   "rss_mb": round(memory[label][-1], 1),
                   # CPU the servers spent per request: less sensitive than req/s to
                   # other work on a shared machine, which takes cores, not instructions
                   "cpu_ms_per_req": 1000 * sum(run["cpu_s"] for run in runs)
                   / max(1, sum(run["requests"] for run in runs))}
            rows.append(row)
            print(f"  {label:<28} c={concurrency:<3} {row['rps']:8.0f} req/s  "
                  f"p50 {row['p50_ms']:6.1f} ms  p99 {row['p99_ms']:6.1f} ms  "
                  f"errors {row['errors']}  rounds {row['rounds_rps']}  "
                  f"first visits {row['first_visits']:.0%}  "
                  f"cpu {row['cpu_ms_per_req']:.2f} ms/req  "
                  f"rss {row['rss_mb']:.0f} MB", flush=True)
    for label, samples in memory.items():  # after each warm-up, after each measured block
        print(f"  {label:<28} memory (all processes): " +
              " -> ".join(f"{mb:.1f}" for mb in samples) + " MB", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30.0,
                        help="seconds per measured run (default 30)")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved runs the duration is split into (default 3)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--workers", type=int, default=2,
                        help="worker processes for both servers (default 2 = serve's)")
    parser.add_argument("--threads", type=int, default=4,
                        help="worker threads per process for both servers (default 4 = "
                             "serve's)")
    parser.add_argument("--bodies", type=int, default=500,
                        help="distinct signed requests to cycle through")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--no-verify-baseline", action="store_true",
                        help="also run hello world with --no-verify: the cost of checking")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.duration > 600:
        parser.error("--duration must be in (0, 600]")
    if args.rounds < 1 or args.duration / args.rounds < 1:
        parser.error("--rounds must be >= 1 and leave >= 1 s per round")
    tool = args.tool if args.tool != "auto" else ("wrk" if shutil.which("wrk") else "python")
    if tool == "wrk" and not shutil.which("wrk"):
        parser.error("wrk not installed (apt-get install wrk) -- or use --tool python")

    pki = certs.default_pki()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="pins-load-") as tmp:
        workdir = Path(tmp)
        with certs.chain_server(pki) as chains:
            env = {k: v for k, v in os.environ.items() if k not in ENV_DROP}
            env.update(PYTHONPATH=str(REPO),
                       ALEXA_TRUST_BUNDLE=str(pki.write_root(workdir / "test-root.pem")),
                       ALEXA_CERT_CHAIN_ORIGIN=chains.origin,
                       SKILL_SQLITE_PATH=str(workdir / "memory.sqlite3"))
            print(f"client={tool} workers={args.workers} threads={args.threads} "
                  f"duration={args.duration:g}s cpus={os.cpu_count()}", flush=True)
            specs = {"hello-world (verify on)": (BASELINE, True),
                     "pins-and-needles (verify on)": (None, True)}
            if args.no_verify_baseline:
                specs["hello-world (no verify)"] = (BASELINE, False)
            targets: dict[str, certs.ServeProcess] = {}
            try:
                for i, (label, (skill, verify)) in enumerate(specs.items()):
                    targets[label] = start_server(
                        skill=skill, workers=args.workers, threads=args.threads,
                        verify=verify, env=env, log_path=workdir / f"server{i}.log")
                rows = measure_all(targets, args=args, pki=pki, workdir=workdir, tool=tool)
            finally:
                for server in targets.values():
                    server.stop()
            if len(chains.hits) > args.workers * 2 * max(1, args.threads):
                print(f"warning: chain fetched {len(chains.hits)} times (cache not used?)")

    ok = True
    # Rounds run back to back (A B, B A, ...), so round i of each is a pair measured under
    # the same background load; the median of the paired ratios resists bursts of noise
    # from other work on the machine better than the ratio of totals.
    print("\nconcurrency  hello req/s  pins req/s  ratio  paired-median  (target >= 0.80)"
          "  cpu/req hello/pins")
    for c in args.concurrency:
        hello = next(r for r in rows if r["concurrency"] == c
                     and r["label"] == "hello-world (verify on)")
        pins = next(r for r in rows if r["concurrency"] == c
                    and r["label"].startswith("pins"))
        ratio = pins["rps"] / hello["rps"]
        paired = statistics.median(p / h for p, h in zip(pins["rounds_rps"],
                                                         hello["rounds_rps"]) if h)
        pins["paired_ratio"] = round(paired, 3)
        ok &= ratio >= 0.8
        print(f"{c:>11}  {hello['rps']:11.0f}  {pins['rps']:10.0f}  {ratio:5.2f}  "
              f"{paired:13.2f}  {hello['cpu_ms_per_req'] / pins['cpu_ms_per_req']:19.2f}")
    errors = sum(r["errors"] for r in rows)
    ok &= errors == 0
    print(f"errors: {errors}  ->  {'PASS' if ok else 'FAIL'}")
    if args.json:
        args.json.write_text(json.dumps({"client": tool, "workers": args.workers,
                                         "threads": args.threads,
                                         "duration_s": args.duration, "rows": rows},
                                        indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
