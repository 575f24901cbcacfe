"""Keep skill-package/ (what the ASK CLI uploads) in step with the project's sources.

The interaction models are generated into ``interaction_models/<locale>.json`` by
``tools/build_interaction_models.py``; that is their single source of truth. The ASK CLI,
however, uploads ``skill-package/interactionModels/custom/<locale>.json``. A symlink
cannot bridge the two: ``ask deploy`` zips the package with archiver's glob, which stores
a symlink as a link entry instead of following it, so the Alexa service would receive no
model at all (and symlinks are unreliable in Windows checkouts). So this tool copies the
generated files byte for byte, and tests/test_deployment.py fails when a copy is stale.

It also writes the Lambda ARN that ``sam deploy`` printed into the manifest's endpoint,
because the committed manifest can only carry a placeholder (the ARN is per account).

Usage::

    python tools/sync_skill_package.py                    # copy the models
    python tools/sync_skill_package.py --check            # exit 1 if a copy is stale
    python tools/sync_skill_package.py --endpoint arn:aws:lambda:...:function:...
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKILL_PACKAGE = ROOT / "skill-package"
MANIFEST = SKILL_PACKAGE / "skill.json"
MODEL_SOURCES = ROOT / "interaction_models"
MODEL_COPIES = SKILL_PACKAGE / "interactionModels" / "custom"

LAMBDA_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}"
    r"(:[A-Za-z0-9_$-]{1,128})?$"
)


class SyncError(RuntimeError):
    """The package cannot be brought in step (a source is missing, or input is bad)."""


def load_manifest(root: Path = ROOT) -> dict:
    return json.loads((root / "skill-package" / "skill.json").read_text(encoding="utf-8"))


def write_manifest(manifest: dict, root: Path = ROOT) -> None:
    """Same layout the committed file uses, so a change shows up as a one-line diff."""
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (root / "skill-package" / "skill.json").write_text(text, encoding="utf-8")


def manifest_locales(root: Path = ROOT) -> list[str]:
    """The locales the skill is published in; each needs an interaction model."""
    return sorted(load_manifest(root)["manifest"]["publishingInformation"]["locales"])


def stale_models(root: Path = ROOT) -> list[str]:
    """Problems that would make ``ask deploy`` upload the wrong model (empty when in sync)."""
    problems = []
    sources = root / "interaction_models"
    copies = root / "skill-package" / "interactionModels" / "custom"
    locales = manifest_locales(root)
    for locale in locales:
        source, copy = sources / f"{locale}.json", copies / f"{locale}.json"
        if not source.is_file():
            problems.append(f"{source.relative_to(root)} is missing "
                            "(run python tools/build_interaction_models.py)")
        elif not copy.is_file():
            problems.append(f"{copy.relative_to(root)} is missing")
        elif copy.read_bytes() != source.read_bytes():
            problems.append(f"{copy.relative_to(root)} differs from {source.relative_to(root)}")
    if copies.is_dir():
        for extra in sorted(copies.glob("*.json")):
            if extra.stem not in locales:
                problems.append(f"{extra.relative_to(root)} is for a locale the manifest "
                                "does not publish")
    return problems


def sync_models(root: Path = ROOT) -> list[Path]:
    """Copy every published locale's generated model into the skill package.

    Returns the copies that changed. Refuses (SyncError) while any source is missing,
    rather than leaving a package with some locales silently absent.
    """
    sources = root / "interaction_models"
    copies = root / "skill-package" / "interactionModels" / "custom"
    locales = manifest_locales(root)
    missing = [loc for loc in locales if not (sources / f"{loc}.json").is_file()]
    if missing:
        raise SyncError(f"no generated interaction model for {', '.join(missing)}; "
                        "run python tools/build_interaction_models.py first")
    copies.mkdir(parents=True, exist_ok=True)
    changed = []
    for locale in locales:
        data = (sources / f"{locale}.json").read_bytes()
        copy = copies / f"{locale}.json"
        if not copy.is_file() or copy.read_bytes() != data:
            copy.write_bytes(data)
            changed.append(copy)
    for extra in sorted(copies.glob("*.json")):
        if extra.stem not in locales:
            extra.unlink()
            changed.append(extra)
    return changed


def set_endpoint(arn: str, root: Path = ROOT) -> bool:
    """Point the manifest's custom endpoint at `arn`; True when the file changed."""
    if not LAMBDA_ARN.match(arn):
        raise SyncError(f"not a Lambda function ARN: {arn!r} "
                        "(use the SkillFunctionArn output of sam deploy)")
    manifest = load_manifest(root)
    endpoint = manifest["manifest"]["apis"]["custom"].setdefault("endpoint", {})
    if endpoint.get("uri") == arn:
        return False
    endpoint["uri"] = arn
    endpoint.pop("sslCertificateType", None)  # only meaningful for HTTPS endpoints
    write_manifest(manifest, root)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sync_skill_package",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if the package is out of step")
    parser.add_argument("--endpoint", metavar="LAMBDA_ARN",
                        help="also set apis.custom.endpoint.uri in skill-package/skill.json")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = stale_models()
            for problem in problems:
                print(f"sync_skill_package: {problem}", file=sys.stderr)
            return 1 if problems else 0
        if args.endpoint and set_endpoint(args.endpoint):
            print(f"endpoint set to {args.endpoint} in {MANIFEST.relative_to(ROOT)}")
        changed = sync_models()
        for path in changed:
            print(f"updated {path.relative_to(ROOT)}")
    except SyncError as error:
        print(f"sync_skill_package: error: {error}", file=sys.stderr)
        return 1
    if not changed and not args.endpoint:
        print("skill-package is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
