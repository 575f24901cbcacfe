"""Read the data files that ship inside the package (article, passages, prompts, phrases).

Plain file reads beside the module, not `importlib.resources`: the package always runs from
a directory (a checkout, a wheel install, the unzipped Lambda bundle), and the resources
machinery costs ~2 ms on a Lambda cold start for nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_text(anchor: str, *parts: str) -> str:
    """The UTF-8 text of `parts`, relative to the directory of the module file `anchor`."""
    return Path(anchor).parent.joinpath(*parts).read_text(encoding="utf-8")


def read_json(anchor: str, *parts: str) -> Any:
    return json.loads(read_text(anchor, *parts))
