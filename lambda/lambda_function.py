"""AWS Lambda entry point: `lambda_function.lambda_handler`, as the ASK samples name it.

The skill itself lives in the `skill` package (shipped beside this file in the zip); this
file only re-exports its handler so that the Lambda console default just works.
"""

import os
import sys

# Running from a source checkout (tests, the simulator): make the package importable.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if not os.path.isdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "skill")):
    if _ROOT not in sys.path:
        sys.path.insert(0, _ROOT)

from skill.hosting.lambda_entry import lambda_handler  # noqa: E402

__all__ = ["lambda_handler"]
