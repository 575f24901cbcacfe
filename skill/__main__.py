"""Command line: `python -m skill chat | serve`.

Each sub-command lives in the hosting layer; this file only dispatches, so that importing
one (the web server, say) never slows down another.
"""

from __future__ import annotations

import sys

USAGE = """usage: python -m skill COMMAND [options]

commands:
  chat      talk to the skill by typing (the local simulator)
  serve     run the skill as a verified HTTPS-ready web service (gunicorn)
"""


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "chat":
        from simulator.chat import main as run
    elif command == "serve":
        from skill.hosting.serve import main as run
    else:
        print(f"unknown command: {command}\n\n{USAGE}", file=sys.stderr)
        return 2
    return run(rest) or 0


if __name__ == "__main__":
    sys.exit(main())
