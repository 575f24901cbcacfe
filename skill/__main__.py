"""Command line: `python -m skill chat | serve`.

Each sub-command is imported only when asked for, so that importing one (the web server,
say) never slows down another. `chat` is the simulator, a development tool that lives in
the project checkout beside this package (`simulator/`), not in the package itself: the
Lambda zip and a `pip install '.[web]'` carry only what they run.
"""

from __future__ import annotations

import sys
from pathlib import Path

USAGE = """usage: python -m skill COMMAND [options]

commands:
  chat      talk to the skill by typing (the local simulator; from a project checkout)
  serve     run the skill as a verified HTTPS-ready web service (gunicorn)
"""

CHECKOUT = Path(__file__).resolve().parents[1]
NO_SIMULATOR = """The simulator is not here. It is a development tool that lives in the project's
source checkout (simulator/, beside skill/), not in the installed package. From a clone:
    make chat
or, with your own virtual environment:
    python -m pip install -e '.[chat]' && python -m skill chat"""
MISSING_DEPENDENCY = """The simulator needs the Python module {module!r}, which is not installed.
Install the simulator's dependencies (the `chat` extra) from the project checkout:
    make chat
or, with your own virtual environment:
    python -m pip install -e '.[chat]'"""


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "chat":
        return chat(rest)
    if command == "serve":
        from skill.hosting.serve import main as run
        return run(rest) or 0
    print(f"unknown command: {command}\n\n{USAGE}", file=sys.stderr)
    return 2


def chat(args: list[str]) -> int:
    """Run the simulator from this checkout, or say plainly what is missing."""
    if (CHECKOUT / "simulator" / "chat.py").is_file() and str(CHECKOUT) not in sys.path:
        sys.path.append(str(CHECKOUT))  # run from elsewhere, an editable install finds it
    try:
        from simulator.chat import main as run
        return run(args) or 0
    except ModuleNotFoundError as error:
        missing = error.name or "?"
        if missing.split(".")[0] == "skill":
            raise  # our own bug, not an installation problem
        if missing.split(".")[0] == "simulator":
            print(NO_SIMULATOR, file=sys.stderr)
        else:
            print(MISSING_DEPENDENCY.format(module=missing), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
