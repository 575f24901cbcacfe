"""Write the Lambda ARN that ``sam deploy`` printed into skill-package/skill.json's endpoint.

The committed manifest can only carry a placeholder (the ARN is per account). The
interaction models need no copying: ``tools/build_interaction_models.py`` writes them
straight to ``skill-package/interactionModels/custom/<locale>.json``, where the ASK CLI
reads them, and that is the only generated copy.

Usage::

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

LAMBDA_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}"
    r"(:[A-Za-z0-9_$-]{1,128})?$"
)


class SyncError(RuntimeError):
    """The endpoint cannot be set (the input is not a Lambda ARN)."""


def load_manifest(root: Path = ROOT) -> dict:
    return json.loads((root / "skill-package" / "skill.json").read_text(encoding="utf-8"))


def write_manifest(manifest: dict, root: Path = ROOT) -> None:
    """Same layout the committed file uses, so a change shows up as a one-line diff."""
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (root / "skill-package" / "skill.json").write_text(text, encoding="utf-8")


def manifest_locales(root: Path = ROOT) -> list[str]:
    """The locales the skill is published in; each needs an interaction model."""
    return sorted(load_manifest(root)["manifest"]["publishingInformation"]["locales"])


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
    parser.add_argument("--endpoint", metavar="LAMBDA_ARN", required=True,
                        help="set apis.custom.endpoint.uri in skill-package/skill.json")
    args = parser.parse_args(argv)
    try:
        changed = set_endpoint(args.endpoint)
    except SyncError as error:
        print(f"sync_skill_package: error: {error}", file=sys.stderr)
        return 1
    print(f"endpoint {'set to' if changed else 'already'} {args.endpoint} "
          f"in {MANIFEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
