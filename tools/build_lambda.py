"""Build the AWS Lambda deployment zip: build/pins-and-needles-lambda.zip.

The zip holds exactly what the function runs:

- ``lambda_function.py`` (and any other top-level module in ``lambda/``) at the zip root,
  because the handler setting is ``lambda_function.lambda_handler``;
- the ``skill`` package with its data files (article, JSON catalogues), since the skill
  reads them from the package at run time;
- the run-time dependencies from ``lambda/requirements.txt``, pip-installed for the Lambda
  platform (Linux x86_64, CPython 3.12) rather than for this machine, so a build made on a
  laptop still runs in AWS.

It never holds tests, this machine's ``__pycache__``/``.pyc`` files (compiled for the wrong
interpreter, and they make the zip differ from build to build) or hidden files. It does
hold bytecode compiled for the Lambda runtime's Python, when that interpreter (e.g.
``python3.12``) is on PATH: Lambda's code directory is read-only, so without it every cold
start compiles every module again. The bytecode uses "unchecked-hash" invalidation, so it
is the same from build to build and is not second-guessed by file times after unzipping. Entries are sorted and
carry a fixed timestamp and fixed permissions, so the same sources give a byte-identical
zip: deploys that change nothing upload nothing new, and a reviewer can compare hashes.

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
import os
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

# The runtime in template.yaml. Wheels are chosen for it, not for the interpreter running
# this script (which may be 3.11 or 3.13, or macOS).
LAMBDA_PYTHON_VERSION = "3.12"
LAMBDA_PLATFORM = "manylinux2014_x86_64"

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


class BuildError(RuntimeError):
    """The zip could not be built, or came out too big to deploy."""


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


def _runtime_interpreter(python_version: str) -> str | None:
    """An interpreter of the Lambda runtime's Python version, to compile bytecode with."""
    import shutil

    if f"{sys.version_info.major}.{sys.version_info.minor}" == python_version:
        return sys.executable
    candidate = shutil.which(f"python{python_version}")
    if candidate is None:
        return None
    # A version manager's shim may exist without the version being selectable.
    probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                           capture_output=True, text=True)
    expected = str(tuple(int(part) for part in python_version.split(".")))
    return candidate if probe.returncode == 0 and probe.stdout.strip() == expected else None


_COMPILE = """
import json, py_compile, sys
for source, target, shown in json.load(sys.stdin):
    py_compile.compile(source, cfile=target, dfile=shown, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
print(sys.implementation.cache_tag)
"""


def compile_bytecode(files: dict[str, Path], workdir: Path, python_version: str) -> dict[str, Path]:
    """`__pycache__` entries for every module in `files`, compiled by the runtime's Python;
    empty (and a note on stderr) when no such interpreter is available here."""
    import json

    interpreter = _runtime_interpreter(python_version)
    if interpreter is None:
        print(f"build_lambda: note: no python{python_version} here, so the zip carries no "
              "bytecode; cold starts will compile the sources", file=sys.stderr)
        return {}
    jobs, names = [], []
    for name in sorted(n for n in files if n.endswith(".py")):
        target = workdir / "bytecode" / f"{name}c"
        jobs.append((str(files[name]), str(target), name))
        names.append(name)
    done = subprocess.run([interpreter, "-c", _COMPILE], input=json.dumps(jobs), text=True,
                          capture_output=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    if done.returncode != 0:
        raise BuildError(f"compiling bytecode failed: {done.stderr.strip()[-500:]}")
    tag = done.stdout.strip().splitlines()[-1]
    compiled = {}
    for name, (_, target, _) in zip(names, jobs):
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
          max_bytes: int = MAX_ZIP_BYTES) -> BuildResult:
    """Build the zip at `output`; raise BuildError if it cannot be built or is too big.

    The zip is written beside `output` first and only moved into place when it is within
    budget, so an oversized artefact never sits where ``sam deploy`` would pick it up.
    """
    output = Path(output)
    files = collect_skill_files(root)
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
        files.update(compile_bytecode(files, Path(tmp), python_version))
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
    parser.add_argument("--python-version", default=LAMBDA_PYTHON_VERSION,
                        help="Python version the wheels are chosen for (default: %(default)s)")
    parser.add_argument("--platform", default=LAMBDA_PLATFORM,
                        help="wheel platform tag (default: %(default)s; use "
                             "manylinux2014_aarch64 for an arm64 function)")
    args = parser.parse_args(argv)
    try:
        result = build(args.output, with_dependencies=not args.no_deps,
                       python_version=args.python_version, platform=args.platform)
    except BuildError as error:
        print(f"build_lambda: error: {error}", file=sys.stderr)
        return 1
    what = "with dependencies" if result.with_dependencies else "skill only, NO dependencies"
    print(f"wrote {result.path} ({what}): {result.file_count} files, "
          f"{result.size:,} bytes ({result.size / MIB:.2f} MiB; "
          f"budget {MAX_ZIP_BYTES / MIB:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
