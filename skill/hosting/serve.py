"""`serve`: run the web service on gunicorn, the production WSGI server.

    python -m skill serve --host 127.0.0.1 --port 8080 [--workers N] [--threads N]
                          [--no-verify] [--skill MODULE:CALLABLE]

Why gunicorn and not `flask run`: Werkzeug's server is for development only; gunicorn
pre-forks workers, restarts crashed ones and bounds request sizes. It is driven through
its `BaseApplication` API so the CLI needs no config file and the app factory runs once
per worker (no sockets or SQLite handles shared across a fork).

Put it behind a TLS-terminating proxy on 443: Alexa only talks HTTPS to port 443.

`--no-verify` turns off signature and timestamp checks for local experiments (curl, the
ASK simulator through a tunnel you control). Because anyone who can reach the port could
then speak as Alexa, it refuses to start on anything but a loopback address.
"""

from __future__ import annotations

import argparse
import importlib
import ipaddress
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger("skill.hosting.serve")

LOG_FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 -- addresses no other machine can reach."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _int_env(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="serve", description="Serve the Alexa skill over HTTP on gunicorn.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"),
                        help="address to bind (default 127.0.0.1; env HOST)")
    parser.add_argument("--port", type=int, default=_int_env("PORT", 8080),
                        help="port to bind (default 8080; env PORT)")
    parser.add_argument("--workers", type=int, default=_int_env("WEB_CONCURRENCY", 2),
                        help="worker processes (default 2; env WEB_CONCURRENCY)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per worker; >1 uses gunicorn's gthread worker")
    parser.add_argument("--no-verify", action="store_true",
                        help="skip signature and timestamp checks (loopback hosts only)")
    parser.add_argument("--skill", metavar="MODULE:CALLABLE", default=None,
                        help="serve another skill factory, e.g. the benchmark baseline "
                             "'bench.hello_world_skill:build_skill'")
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "info"),
                        choices=["debug", "info", "warning", "error"])
    return parser


def load_skill_factory(spec: str) -> Callable[[], Any]:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"--skill must look like module:callable, got {spec!r}")
    factory = getattr(importlib.import_module(module_name), attr)
    if not callable(factory):
        raise ValueError(f"{spec} is not callable")
    return factory


def configure_logging(level: str) -> None:
    """key=value lines on stderr, like the skill's own request log."""
    root = logging.getLogger()
    if not any(getattr(h, "_pins_serve", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler._pins_serve = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level.upper())


def make_app_factory(config: dict[str, Any], skill_spec: str | None) -> Callable[[], Any]:
    """What each gunicorn worker calls to build its app."""
    def factory():
        from skill.hosting.webservice import create_app

        skill = load_skill_factory(skill_spec)() if skill_spec else None
        return create_app(skill, config)
    return factory


def _gunicorn_application(factory: Callable[[], Any], options: dict[str, Any]):
    from gunicorn.app.base import BaseApplication

    class SkillServer(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings:  # older gunicorns lack some (control socket)
                    self.cfg.set(key, value)

        def load(self):
            return factory()

    return SkillServer()


def gunicorn_options(args: argparse.Namespace) -> dict[str, Any]:
    host = f"[{args.host}]" if ":" in args.host and not args.host.startswith("[") else args.host
    return {
        "bind": f"{host}:{args.port}",
        "workers": args.workers,
        "threads": args.threads,
        "worker_class": "gthread" if args.threads > 1 else "sync",
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,      # the app logs one structured line per request itself
        "errorlog": "-",
        "loglevel": args.log_level,
        "proc_name": "pins-and-needles",
        "control_socket_disable": True,  # no admin socket in $HOME for a web endpoint
        # Alexa's headers are small; keep gunicorn's request-line/header limits tight.
        "limit_request_line": 4094,
        "limit_request_fields": 50,
        "limit_request_field_size": 8190,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.workers < 1 or args.threads < 1 or not 0 < args.port < 65536:
        print("serve: --workers/--threads must be >= 1 and --port 1-65535", file=sys.stderr)
        return 2
    if args.no_verify and not is_loopback(args.host):
        print(f"serve: refusing --no-verify on non-loopback host {args.host!r}: anyone who "
              "can reach it could impersonate Alexa. Use 127.0.0.1 or drop --no-verify.",
              file=sys.stderr)
        return 2
    configure_logging(args.log_level)
    config: dict[str, Any] = {}
    if args.no_verify:
        config.update(ASK_SDK_VERIFY_SIGNATURE=False, ASK_SDK_VERIFY_TIMESTAMP=False)
        log.warning("event=no_verify host=%s note=\"signature and timestamp checks are OFF; "
                    "never expose this server\"", args.host)
    # Fail in the parent, with a readable message, on bad configuration or a broken skill
    # module, rather than in every worker's boot.
    try:
        from skill.hosting.webservice import load_config

        load_config(config)
        if args.skill:
            load_skill_factory(args.skill)
    except (ValueError, ImportError, AttributeError) as exc:
        print(f"serve: {exc}", file=sys.stderr)
        return 2
    log.info("event=serve_start bind=%s:%s workers=%s threads=%s verify=%s", args.host,
             args.port, args.workers, args.threads, not args.no_verify)
    _gunicorn_application(make_app_factory(config, args.skill), gunicorn_options(args)).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
