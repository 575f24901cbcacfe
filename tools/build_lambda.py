"""Build the AWS Lambda deployment zip: build/pins-and-needles-lambda.zip.

The zip holds exactly what the function runs:

- ``lambda_function.py`` (and any other top-level module in ``lambda/``) at the zip root,
  because the handler setting is ``lambda_function.lambda_handler``;
- the ``skill`` package with its data files (article, JSON catalogues), since the skill
  reads them from the package at run time;
- the run-time dependencies from ``lambda/requirements.txt``, pip-installed for the Lambda
  platform (the ``Runtime`` and ``Architectures`` of ``template.yaml``, read from it, so the
  two cannot drift) rather than for this machine, so a build made on a laptop runs in AWS;
- bytecode for every module, compiled by an interpreter of the template's Python version.

Why the bytecode, and why the build insists on the right interpreter: Lambda's code
directory is read-only, so without shipped ``.pyc`` files every cold start compiles every
module again (313-358 ms instead of 87-96 ms for import + LaunchRequest, measured on the
old build), and compiling ask-sdk-model on Python >= 3.12 prints 23 ``SyntaxWarning:
invalid escape sequence`` lines into the logs on each cold start. Bytecode from another
Python version is ignored by the runtime, so the build finds a ``python3.12`` (the
``--runtime-python`` option or ``LAMBDA_RUNTIME_PYTHON``; the running interpreter; a
``python3.12`` on PATH that really is 3.12 -- a pyenv shim may exist without the version
being selected; pyenv's and uv's installed versions) and otherwise stops with what to
install. We chose this over making the template follow whatever Python builds the zip:
the deployed runtime should be a reviewed line in the template, not an accident of the
build machine. The dependencies' own warnings are silenced while compiling (they are not
ours to fix); a warning in our own code fails the build. The bytecode uses
"unchecked-hash" invalidation, so it is the same from build to build and is not
second-guessed by file times after unzipping.

It never holds tests, this machine's ``__pycache__``/``.pyc`` files, or hidden files.
Entries are sorted and carry a fixed timestamp and fixed permissions, so the same sources
give a byte-identical zip: deploys that change nothing upload nothing new, and a reviewer
can compare hashes.

The zip must stay under 50 MB (Lambda's limit for a direct upload). numpy, `tokenizers`
and the red-flag detector's static model (skill/dialog/model/, built by
tools/build_static_model.py) take about 35 MB of it; going over means something heavy
slipped in (boto3, torch, ...), so the build fails loudly instead of shipping it.

Usage::

    python tools/build_lambda.py              # full zip, dependencies included
    python tools/build_lambda.py --no-deps    # quick skill-only zip (checks, not deploys)
"""

from __future__ import annotations

import argparse
import fnmatch
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKILL_DIR = ROOT / "skill"
LAMBDA_DIR = ROOT / "lambda"
REQUIREMENTS = LAMBDA_DIR / "requirements.txt"
DEFAULT_OUTPUT = ROOT / "build" / "pins-and-needles-lambda.zip"
TEMPLATE = ROOT / "template.yaml"
RUNTIME_PYTHON_VARIABLE = "LAMBDA_RUNTIME_PYTHON"


class BuildError(RuntimeError):
    """The zip could not be built, or came out too big to deploy."""


# Lambda architecture (template.yaml) -> the wheel platform tag pip must pick.
WHEEL_PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}


def template_runtime(template: Path = TEMPLATE) -> tuple[str, str]:
    """(Python version, wheel platform) of the function in template.yaml, e.g. ("3.12",
    "manylinux2014_x86_64"). Read with two patterns rather than a YAML parser: the
    template's CloudFormation tags (!Ref, !GetAtt) need one, and this tool has no deps."""
    text = template.read_text("utf-8")
    runtime = re.search(r"^\s+Runtime:\s*python(3\.\d+)\s*$", text, re.MULTILINE)
    architectures = re.search(r"^\s+Architectures:\s*\[\s*(\w+)\s*\]\s*$", text, re.MULTILINE)
    if runtime is None or architectures is None:
        raise BuildError(f"{template} names no 'Runtime: python3.X' and "
                         "'Architectures: [...]' for the function")
    if architectures.group(1) not in WHEEL_PLATFORMS:
        raise BuildError(f"unknown Lambda architecture {architectures.group(1)!r}")
    return runtime.group(1), WHEEL_PLATFORMS[architectures.group(1)]


# The runtime in template.yaml. Wheels and bytecode are made for it, not for the
# interpreter running this script (which may be 3.11 or 3.13, or macOS).
LAMBDA_PYTHON_VERSION, LAMBDA_PLATFORM = template_runtime()

MIB = 1024 * 1024
MAX_ZIP_BYTES = 50 * MIB

# Zip timestamps cannot predate 1980; any fixed value makes builds reproducible.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--: Lambda only needs to read the code

# Never shipped, wherever they appear.
EXCLUDED_DIR_NAMES = {"__pycache__", "tests", "test"}
EXCLUDED_FILE_PATTERNS = ("*.pyc", "*.pyo", "*~", "*.swp", "*.sqlite3", "*.sqlite3-*")
# Top-level entries pip --target may create that are no use in Lambda (console scripts).
EXCLUDED_DEPENDENCY_TOP_LEVEL = {"bin"}


@dataclass(frozen=True)
class BuildResult:
    path: Path
    size: int
    file_count: int
    with_dependencies: bool


def _excluded(path: Path) -> bool:
    name = path.name
    if name.startswith("."):
        return True
    if path.is_dir():
        return name in EXCLUDED_DIR_NAMES
    return any(fnmatch.fnmatch(name, pattern) for pattern in EXCLUDED_FILE_PATTERNS)


def collect_tree(directory: Path, prefix: str) -> dict[str, Path]:
    """Every shippable file under `directory`, keyed by its name inside the zip."""
    files: dict[str, Path] = {}
    for current, dirnames, filenames in os.walk(directory):
        current_path = Path(current)
        dirnames[:] = sorted(d for d in dirnames if not _excluded(current_path / d))
        for filename in filenames:
            path = current_path / filename
            if _excluded(path) or not path.is_file():
                continue
            relative = path.relative_to(directory).as_posix()
            files[f"{prefix}{relative}"] = path
    return files


def collect_skill_files(root: Path = ROOT) -> dict[str, Path]:
    """The handler module(s) at the zip root plus the whole ``skill`` package."""
    files: dict[str, Path] = {}
    lambda_dir = root / "lambda"
    for path in sorted(lambda_dir.glob("*.py")):
        files[path.name] = path
    if "lambda_function.py" not in files:
        raise BuildError(f"{lambda_dir / 'lambda_function.py'} is missing: "
                         "it is the Lambda handler module")
    files.update(collect_tree(root / "skill", "skill/"))
    return files


def install_dependencies(target: Path, requirements: Path = REQUIREMENTS, *,
                         python_version: str = LAMBDA_PYTHON_VERSION,
                         platform: str = LAMBDA_PLATFORM) -> None:
    """pip-install the pinned requirements into `target` as wheels for the Lambda platform.

    ``--no-deps``: the requirements file is the complete, reviewed closure (minus the
    runtime's own boto3), so pip must not add anything to it. ``--only-binary``: building
    from source here would compile for this machine, not for Lambda.
    """
    command = [
        sys.executable, "-m", "pip", "install",
        "--quiet", "--disable-pip-version-check", "--no-input",
        "--no-deps", "--no-compile",
        "--only-binary=:all:",
        "--implementation", "cp",
        "--python-version", python_version,
        "--platform", platform,
        # numpy 2.3+ ships manylinux_2_28 wheels only; Lambda's Amazon Linux 2023 has glibc 2.34
        "--platform", platform.replace("manylinux2014", "manylinux_2_28"),
        "--target", str(target),
        "-r", str(requirements),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise BuildError("pip could not install the Lambda dependencies "
                         f"(exit {completed.returncode}):\n{completed.stdout}{completed.stderr}")


def collect_dependency_files(site: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for entry in sorted(site.iterdir()):
        if entry.name in EXCLUDED_DEPENDENCY_TOP_LEVEL or _excluded(entry):
            continue
        if entry.is_dir():
            files.update(collect_tree(entry, f"{entry.name}/"))
        elif entry.is_file():
            files[entry.name] = entry
    return files


def write_zip(files: dict[str, Path], output: Path) -> None:
    """Write `files` in sorted order with fixed metadata, so equal inputs give equal bytes."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permission bits below are honoured
            info.external_attr = FILE_MODE << 16
            zf.writestr(info, files[name].read_bytes())


_VERSION = "import sys; print('%d.%d' % sys.version_info[:2])"


def _probe(candidate: str) -> str | None:
    """The "3.X" version `candidate` really runs, or None if it does not run at all."""
    try:
        done = subprocess.run([candidate, "-c", _VERSION], capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _candidates(python_version: str) -> list[str]:
    """Where a CPython `python_version` usually is: PATH, then pyenv's and uv's installs."""
    found = [sys.executable, shutil.which(f"python{python_version}")]
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    uv_root = os.environ.get("UV_PYTHON_INSTALL_DIR") or os.path.expanduser(
        "~/.local/share/uv/python")
    for pattern in (f"{pyenv_root}/versions/{python_version}.*/bin/python{python_version}",
                    f"{uv_root}/cpython-{python_version}.*/bin/python{python_version}"):
        # Newest patch release first ("3.12.10" after "3.12.9").
        found += sorted(glob.glob(pattern), reverse=True,
                        key=lambda p: [int(n) for n in re.findall(r"\d+", Path(p).parts[-3])])
    return [c for c in found if c]


def find_runtime_interpreter(python_version: str, explicit: str | None = None) -> str:
    """A CPython of `python_version` to compile bytecode with; BuildError saying what to
    install when there is none. `explicit` (or $LAMBDA_RUNTIME_PYTHON) must be right."""
    explicit = explicit or os.environ.get(RUNTIME_PYTHON_VARIABLE)
    if explicit:
        version = _probe(explicit)
        if version != python_version:
            raise BuildError(f"{explicit} runs Python {version or '(nothing: it did not start)'}"
                             f", but template.yaml's runtime is python{python_version}")
        return explicit
    for candidate in _candidates(python_version):
        if _probe(candidate) == python_version:
            return candidate
    raise BuildError(
        f"no Python {python_version} found to compile the bytecode for the template's "
        f"runtime (python{python_version}); without it every cold start compiles every "
        f"module and logs warnings. Install CPython {python_version} -- e.g. "
        f"`pyenv install {python_version}`, `uv python install {python_version}` or "
        f"`apt-get install python{python_version}` -- or point --runtime-python "
        f"(or ${RUNTIME_PYTHON_VARIABLE}) at one. A pyenv shim named python{python_version} "
        f"that says the version is not selected does not count.")


# Runs under the runtime's interpreter: compiles each module to hash-based bytecode.
# Invalid escape sequences in the dependencies (ask-sdk-model has 23) only warn, and are
# not ours to fix: silenced. In our own code (`strict`) any compile warning is an error.
_COMPILE = """
import json, py_compile, sys, warnings
for source, target, shown, strict in json.load(sys.stdin):
    with warnings.catch_warnings():
        warnings.simplefilter("error" if strict else "ignore")
        py_compile.compile(source, cfile=target, dfile=shown, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
print(sys.implementation.cache_tag)
"""


def compile_bytecode(files: dict[str, Path], workdir: Path, python_version: str, *,
                     interpreter: str | None = None, strict: set[str] = frozenset()
                     ) -> dict[str, Path]:
    """`__pycache__` entries for every module in `files`, compiled by the runtime's Python.
    Modules named in `strict` (our own) fail the build on any compile warning."""
    interpreter = find_runtime_interpreter(python_version, interpreter)
    jobs, names = [], []
    for name in sorted(n for n in files if n.endswith(".py")):
        target = workdir / "bytecode" / f"{name}c"
        jobs.append((str(files[name]), str(target), name, name in strict))
        names.append(name)
    done = subprocess.run([interpreter, "-c", _COMPILE], input=json.dumps(jobs), text=True,
                          capture_output=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    if done.returncode != 0:
        raise BuildError(f"compiling bytecode failed: {done.stderr.strip()[-500:]}")
    tag = done.stdout.strip().splitlines()[-1]
    compiled = {}
    for name, (_, target, _, _) in zip(names, jobs):
        folder, _, module = name.rpartition("/")
        entry = f"{folder}/__pycache__/{module[:-3]}.{tag}.pyc".lstrip("/")
        compiled[entry] = Path(target)
    return compiled


def _largest_parts(files: dict[str, Path], count: int = 5) -> list[tuple[str, int]]:
    sizes: dict[str, int] = {}
    for name, path in files.items():
        top = name.split("/", 1)[0]
        sizes[top] = sizes.get(top, 0) + path.stat().st_size
    return sorted(sizes.items(), key=lambda item: item[1], reverse=True)[:count]


def build(output: Path = DEFAULT_OUTPUT, *, with_dependencies: bool = True,
          root: Path = ROOT, requirements: Path | None = None,
          python_version: str = LAMBDA_PYTHON_VERSION, platform: str = LAMBDA_PLATFORM,
          runtime_python: str | None = None, max_bytes: int = MAX_ZIP_BYTES) -> BuildResult:
    """Build the zip at `output`; raise BuildError if it cannot be built or is too big.

    The zip is written beside `output` first and only moved into place when it is within
    budget, so an oversized artefact never sits where ``sam deploy`` would pick it up.
    """
    output = Path(output)
    files = collect_skill_files(root)
    ours = set(files)
    with tempfile.TemporaryDirectory(prefix="pins-and-needles-deps-") as tmp:
        if with_dependencies:
            site = Path(tmp)
            install_dependencies(site, requirements or root / "lambda" / "requirements.txt",
                                 python_version=python_version, platform=platform)
            dependency_files = collect_dependency_files(site)
            clashes = sorted(set(files) & set(dependency_files))
            if clashes:
                raise BuildError(f"dependencies would overwrite our own files: {clashes}")
            files.update(dependency_files)
        files.update(compile_bytecode(files, Path(tmp), python_version,
                                      interpreter=runtime_python, strict=ours))
        partial = output.with_name(output.name + ".partial")
        try:
            write_zip(files, partial)
            size = partial.stat().st_size
            if size > max_bytes:
                parts = ", ".join(f"{name} {n / MIB:.1f} MiB" for name, n in _largest_parts(files))
                raise BuildError(f"{output.name} would be {size / MIB:.2f} MiB, over the "
                                 f"{max_bytes / MIB:.2f} MiB budget. Largest parts (unzipped): "
                                 f"{parts}")
            os.replace(partial, output)
        finally:
            partial.unlink(missing_ok=True)
    return BuildResult(output, size, len(files), with_dependencies)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry (also what ``python -m skill package`` can delegate to)."""
    parser = argparse.ArgumentParser(prog="build_lambda", description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", "-o", type=Path, default=DEFAULT_OUTPUT,
                        help=f"zip to write (default: {DEFAULT_OUTPUT.relative_to(ROOT)})")
    parser.add_argument("--no-deps", action="store_true",
                        help="skip the pip install: a quick skill-only zip for checks; "
                             "it cannot run in Lambda on its own")
    parser.add_argument("--runtime-python", metavar="PATH",
                        help=f"a Python {LAMBDA_PYTHON_VERSION} to compile the bytecode with "
                             f"(default: ${RUNTIME_PYTHON_VARIABLE}, else found on PATH or "
                             "among pyenv's and uv's installs)")
    args = parser.parse_args(argv)
    try:
        result = build(args.output, with_dependencies=not args.no_deps,
                       runtime_python=args.runtime_python)
    except BuildError as error:
        print(f"build_lambda: error: {error}", file=sys.stderr)
        return 1
    what = "with dependencies" if result.with_dependencies else "skill only, NO dependencies"
    what += f", for python{LAMBDA_PYTHON_VERSION} on {LAMBDA_PLATFORM}"
    print(f"wrote {result.path} ({what}): {result.file_count} files, "
          f"{result.size:,} bytes ({result.size / MIB:.2f} MiB; "
          f"budget {MAX_ZIP_BYTES / MIB:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
