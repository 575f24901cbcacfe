"""`serve`: run the web service on waitress, in one or more worker processes.

    python -m skill.hosting.serve --host 127.0.0.1 --port 8080 [--workers N] [--threads N]
                          [--no-verify] [--skill MODULE:CALLABLE]

Why waitress (and not gunicorn's sync or gthread workers, or `flask run`): a public
endpoint meets slow and malformed clients. gunicorn hands a connection to a worker as soon
as it is accepted, so a few clients trickling a header line every few seconds held every
worker and starved /healthz, and a malformed chunked body reached Flask and became a 500.
waitress reads each request -- headers and the whole body -- in its asynchronous loop and
hands it to a worker thread only once it has fully arrived; it answers a malformed chunked
body with 400 itself. We add one thing it lacks: a deadline for a request to arrive
(`REQUEST_READ_TIMEOUT`, headers and body together), so slow clients cannot hold
connections for ever either. Idle keep-alive connections close after `IDLE_TIMEOUT`.

Processes: `--workers` pre-forked processes share one listening socket, each with its own
app (the factory runs after the fork: no SQLite handle or socket shared across it) and
`--threads` worker threads. The parent restarts a worker that dies, and gives up with
exit code 3 if one dies while booting.

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
import signal
import socket
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger("skill.hosting.serve")

LOG_FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"

#: A request's headers and body must have arrived this many seconds after its first byte.
REQUEST_READ_TIMEOUT = 10
#: An idle keep-alive connection is closed after this many seconds.
IDLE_TIMEOUT = 15
#: waitress refuses bodies above this itself; the app's own 413 (256 KB) comes first.
MAX_BUFFERED_BODY = 1024 * 1024
#: A worker that dies sooner than this after starting is a boot failure, not a crash.
BOOT_SECONDS = 5.0


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
        prog="serve", description="Serve the Alexa skill over HTTP on waitress.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"),
                        help="address to bind (default 127.0.0.1; env HOST)")
    parser.add_argument("--port", type=int, default=_int_env("PORT", 8080),
                        help="port to bind (default 8080; env PORT)")
    parser.add_argument("--workers", type=int, default=_int_env("WEB_CONCURRENCY", 2),
                        help="worker processes (default 2; env WEB_CONCURRENCY)")
    parser.add_argument("--threads", type=int, default=4,
                        help="worker threads per process (default 4)")
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
    """What each worker process calls to build its app."""
    def factory():
        from skill.hosting.webservice import create_app

        skill = load_skill_factory(skill_spec)() if skill_spec else None
        return create_app(skill, config)
    return factory


def waitress_options(args: argparse.Namespace) -> dict[str, Any]:
    """waitress adjustments: bounded request sizes and times, no tracebacks shown."""
    return {
        "threads": args.threads,
        "channel_timeout": IDLE_TIMEOUT,
        "cleanup_interval": 1,  # how often deadlines are checked, in seconds
        "connection_limit": 1000,
        "max_request_header_size": 16 * 1024,
        "max_request_body_size": MAX_BUFFERED_BODY,
        "expose_tracebacks": False,
        "ident": "pins-and-needles",
        "asyncore_use_poll": True,  # no select() limit on file descriptors
    }


def make_server(app: Any, sock: socket.socket, options: dict[str, Any]):
    """A waitress server on an already listening `sock`, with the read deadline."""
    from waitress.adjustments import Adjustments
    from waitress.channel import HTTPChannel
    from waitress.server import TcpWSGIServer

    class DeadlineChannel(HTTPChannel):
        """Notes when the request being read began (None between requests)."""

        request_started: float | None = None

        def received(self, data):
            reading = self.request
            result = super().received(data)
            if self.request is None:
                self.request_started = None
            elif self.request is not reading or self.request_started is None:
                self.request_started = time.monotonic()
            return result

    class DeadlineServer(TcpWSGIServer):
        """Closes connections whose request has not fully arrived in time."""

        channel_class = DeadlineChannel

        def maintenance(self, now):
            super().maintenance(now)
            late = time.monotonic() - REQUEST_READ_TIMEOUT
            for channel in list(self.active_channels.values()):
                started = getattr(channel, "request_started", None)
                if started is not None and started < late:
                    channel.will_close = True

    return DeadlineServer(app, _sock=sock, adj=Adjustments(**options), bind_socket=False,
                          sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()))


def listen(host: str, port: int) -> socket.socket:
    info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(info[0], socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(info[4])
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _run_worker(factory: Callable[[], Any], sock: socket.socket,
                options: dict[str, Any]) -> None:
    """In a forked child: build the app, serve until told to stop. Never returns."""
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    code = 0
    try:
        server = make_server(factory(), sock, options)
        server.run()
    except Exception:
        log.exception("event=worker_failed pid=%s", os.getpid())
        code = 3
    finally:
        logging.shutdown()
    os._exit(code)


def supervise(factory: Callable[[], Any], sock: socket.socket, options: dict[str, Any],
              workers: int) -> int:
    """Fork `workers` processes; restart any that dies; stop them all on SIGTERM/SIGINT."""
    children: dict[int, float] = {}
    stopping = False

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:
            _run_worker(factory, sock, options)
        children[pid] = time.monotonic()

    def terminate_children() -> None:
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def stop(*_: Any) -> None:
        # Python retries the interrupted waitpid below (PEP 475), so a flag alone would
        # leave the supervisor waiting on healthy workers: tell them now, and their exits
        # end the wait.
        nonlocal stopping
        stopping = True
        terminate_children()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(workers):
        spawn()
    code = 0
    while children and not stopping:
        try:
            pid, status = os.waitpid(-1, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            break
        started = children.pop(pid, None)
        if started is None or stopping:
            continue
        if time.monotonic() - started < BOOT_SECONDS and status != 0:
            log.error("event=worker_boot_failed pid=%s status=%s", pid, status)
            code, stopping = 3, True
            break
        log.warning("event=worker_restart pid=%s status=%s", pid, status)
        spawn()
    terminate_children()
    for pid in list(children):
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    return code


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
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        print(f"serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    log.info("event=serve_start bind=%s:%s workers=%s threads=%s verify=%s", args.host,
             args.port, args.workers, args.threads, not args.no_verify)
    return supervise(make_app_factory(config, args.skill), sock, waitress_options(args),
                     args.workers)


if __name__ == "__main__":
    sys.exit(main())
