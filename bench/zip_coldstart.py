"""Cold start of the BUILT Lambda zip, against the hello-world skill, in clean interpreters.

What Lambda does on a cold start, as closely as this machine allows: a fresh process of
the template's Python (found as tools/build_lambda.py finds it), with no site-packages, no
PYTHON* variables and no bytecode written back (`-I -S -B`, so every run is cold), imports
`lambda_function` from the unzipped code and answers one LaunchRequest. The hello-world skill (bench/hello_world_skill.py) runs the
same way from a directory holding the zip's own dependencies plus its one module, compiled
the same way, so the ratio compares our code with Amazon's minimal sample and nothing
else. Runs alternate between the two so machine noise hits both alike; medians are shown,
as wall time and as the child's CPU time (steadier when other work shares the machine).

Also reported for each: how many modules were compiled from source during the cold start
(0 when the shipped bytecode is used) and how many lines went to stderr (warnings).
`--strip-bytecode` runs the zip without its `__pycache__` entries, i.e. as the old build
shipped it when no python3.12 was on PATH, for a before/after.

Usage: python bench/zip_coldstart.py [--runs 20] [--zip build/pins-and-needles-lambda.zip]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVENT = {
    "version": "1.0",
    "session": {"new": True, "sessionId": "amzn1.echo-api.session.bench",
                "application": {"applicationId": "amzn1.ask.skill.bench"},
                "user": {"userId": "amzn1.ask.account.bench"}},
    "context": {"System": {"application": {"applicationId": "amzn1.ask.skill.bench"},
                           "user": {"userId": "amzn1.ask.account.bench"},
                           "device": {"deviceId": "amzn1.ask.device.bench",
                                      "supportedInterfaces": {}},
                           "apiEndpoint": "https://api.amazonalexa.com"}},
    "request": {"type": "LaunchRequest", "requestId": "amzn1.echo-api.request.bench",
                "timestamp": "2024-01-01T00:00:00Z", "locale": "en-US"},
}

# Counts source compiles by wrapping the loader's compile step before anything is imported.
CHILD = r"""
import importlib.machinery, json, sys, time
compiled = []
_original = importlib.machinery.SourceFileLoader.source_to_code
def _counting(self, data, path, *args, **kwargs):
    compiled.append(path)
    return _original(self, data, path, *args, **kwargs)
importlib.machinery.SourceFileLoader.source_to_code = _counting
t0 = time.perf_counter()
sys.path.insert(0, sys.argv[1])
module = __import__(sys.argv[2])
response = module.lambda_handler(json.loads(sys.stdin.read()), None)
elapsed = time.perf_counter() - t0
assert response["response"]["outputSpeech"]["ssml"]
print(json.dumps({"seconds": elapsed, "compiled": len(compiled)}))
"""


def load_build_lambda():
    path = ROOT / "tools" / "build_lambda.py"
    spec = importlib.util.spec_from_file_location("build_lambda", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def prepare(zip_path: Path, work: Path, build_lambda, interpreter: str, strip: bool):
    """Unzip ours; make hello world's directory from the zip's dependencies."""
    ours, hello = work / "ours", work / "hello"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(ours)
    if strip:
        for cache in list(ours.rglob("__pycache__")):
            shutil.rmtree(cache)
    # Everything but our code (the pattern also drops lambda_function's own .pyc).
    shutil.copytree(ours, hello, ignore=shutil.ignore_patterns("skill", "lambda_function*"))
    source = hello / "hello_world_skill.py"
    shutil.copy(ROOT / "bench" / "hello_world_skill.py", source)
    if not strip:
        compiled = build_lambda.compile_bytecode({"hello_world_skill.py": source}, work,
                                                 build_lambda.LAMBDA_PYTHON_VERSION,
                                                 interpreter=interpreter)
        for name, path in compiled.items():
            (hello / name).parent.mkdir(exist_ok=True)
            shutil.copy(path, hello / name)
    return ours, hello


def run(interpreter: str, code_dir: Path, module: str) -> dict:
    start, cpu = time.perf_counter(), os.times()
    done = subprocess.run([interpreter, "-I", "-S", "-B", "-c", CHILD, str(code_dir), module],
                          input=json.dumps(EVENT), capture_output=True, text=True,
                          env={"LOG_LEVEL": "WARNING"},
                          cwd=code_dir, timeout=120)
    wall, after = time.perf_counter() - start, os.times()
    # CPU seconds of the child (user + system): far less disturbed than wall time when
    # other work shares the machine.
    cpu_seconds = (after.children_user - cpu.children_user
                   + after.children_system - cpu.children_system)
    if done.returncode != 0:
        raise SystemExit(f"{module} failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(wall=wall, cpu=cpu_seconds, stderr_lines=len(done.stderr.splitlines()))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--zip", type=Path, help="an already built zip (default: build one)")
    parser.add_argument("--strip-bytecode", action="store_true",
                        help="remove the shipped __pycache__ (the old build, for comparison)")
    args = parser.parse_args(argv)
    build_lambda = load_build_lambda()
    interpreter = build_lambda.find_runtime_interpreter(build_lambda.LAMBDA_PYTHON_VERSION)
    with tempfile.TemporaryDirectory(prefix="zip-coldstart-") as tmp:
        work = Path(tmp)
        zip_path = args.zip or build_lambda.build(work / "lambda.zip").path
        ours_dir, hello_dir = prepare(zip_path, work, build_lambda, interpreter,
                                      args.strip_bytecode)
        run(interpreter, ours_dir, "lambda_function")  # untimed: page cache
        run(interpreter, hello_dir, "hello_world_skill")
        ours, hello = [], []
        for _ in range(args.runs):
            ours.append(run(interpreter, ours_dir, "lambda_function"))
            hello.append(run(interpreter, hello_dir, "hello_world_skill"))
    median = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
    version = subprocess.run([interpreter, "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True).stdout.strip()
    print(f"built zip, Python {version} ({interpreter}), -I -S -B, {args.runs} runs each"
          f"{', bytecode STRIPPED' if args.strip_bytecode else ''}\n")
    print("| measure | Pins & Needles | hello world | ratio |")
    print("|---|---|---|---|")
    for label, key in (("import + LaunchRequest, in process", "seconds"),
                       ("whole process, interpreter included", "wall"),
                       ("whole process, CPU time (user + system)", "cpu")):
        a, b = median(ours, key) * 1000, median(hello, key) * 1000
        print(f"| {label} | {a:.1f} ms | {b:.1f} ms | {a / b:.2f}x |")
    print(f"| modules compiled from source | {max(r['compiled'] for r in ours)} "
          f"| {max(r['compiled'] for r in hello)} | |")
    print(f"| stderr lines (warnings) | {max(r['stderr_lines'] for r in ours)} "
          f"| {max(r['stderr_lines'] for r in hello)} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
