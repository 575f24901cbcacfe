"""A loopback stand-in for the Alexa Reminders API and the Settings API's time zone.

Why a stand-in that speaks HTTPS rather than a mock: the skill reaches these APIs through
ask-sdk-core's `DefaultApiClient` (which refuses anything but https) and the SDK's service
clients, exactly as in production; only `context.System.apiEndpoint` in the request points
here instead of api.amazonalexa.com. The server records every request it receives
(method, path, Authorization header, JSON body) and answers as the documented API does
(docs/reminders.md): reminders per access token, `GET /v1/alerts/reminders` lists only
them, `POST` validates the body and returns an alertToken, `DELETE` of an unknown token
is 404, errors come as {"code", "message"} bodies. Tests can script failures (`fail`),
late answers (`delay`, after the change is made, like a response lost on the way back),
tokens without the permission (`no_permission`), a limit on reminders (`max_reminders`)
and the device time zone (`time_zones`).

Run it by hand for the simulator:
    .venv/bin/python tests/reminders_api.py --port 8443
prints the address and the CA file; then
    REQUESTS_CA_BUNDLE=<ca file> .venv/bin/python -m skill chat --grant-reminders \\
        --api-endpoint https://127.0.0.1:8443
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import ssl
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REMINDERS_PATH = "/v1/alerts/reminders"
TIME_ZONE_PATH = re.compile(r"^/v2/devices/([^/]+)/settings/System\.timeZone$")
RULE_PARTS = {"FREQ", "BYDAY", "BYHOUR", "BYMINUTE", "BYSECOND", "INTERVAL"}
DAY_CODES = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"}


@dataclass
class Received:
    method: str
    path: str
    authorization: str | None
    body: dict | None


@dataclass
class _Scripted:
    method: str
    path_prefix: str
    times: int
    status: int = 0
    code: str = ""
    seconds: float = 0.0


@dataclass
class StandInState:
    received: list[Received] = field(default_factory=list)
    reminders: dict[str, dict[str, dict]] = field(default_factory=dict)  # token -> id -> alert
    time_zones: dict[str, str] = field(default_factory=dict)
    default_time_zone: str | None = "Europe/London"
    no_permission: set[str] = field(default_factory=set)
    max_reminders: int = 250
    failures: list[_Scripted] = field(default_factory=list)
    delays: list[_Scripted] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _error(status: int, code: str, message: str) -> tuple[int, dict]:
    return status, {"code": code, "message": message}


def _check_rule(rule: str) -> str | None:
    if not isinstance(rule, str) or not rule.startswith("FREQ="):
        return "a rule starts with FREQ="
    parts = dict(p.split("=", 1) for p in rule.strip(";").split(";") if "=" in p)
    if set(parts) - RULE_PARTS:
        return f"unsupported rule parts {sorted(set(parts) - RULE_PARTS)}"
    if parts["FREQ"] not in ("DAILY", "WEEKLY"):
        return "FREQ is DAILY or WEEKLY"
    if "BYDAY" in parts and not set(parts["BYDAY"].split(",")) <= DAY_CODES:
        return "BYDAY takes MO..SU"
    for name, top in (("BYHOUR", 23), ("BYMINUTE", 59), ("BYSECOND", 59)):
        if name in parts:
            try:
                values = [int(v) for v in parts[name].split(",")]
            except ValueError:
                return f"{name} takes numbers"
            if not all(0 <= v <= top for v in values):
                return f"{name} out of range"
    return None


def _local_time(value, name: str) -> str | None:
    if not isinstance(value, str):
        return f"{name} is required"
    if value.endswith("Z") or re.search(r"[+-]\d\d:\d\d$", value):
        return f"{name} takes a local time without an offset"
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return f"{name} is not ISO 8601"
    return None


def validate_reminder(body) -> str | None:
    """What the API would reject in a create request, or None."""
    if not isinstance(body, dict):
        return "the body is a JSON object"
    problem = _local_time(body.get("requestTime"), "requestTime")
    if problem:
        return problem
    trigger = body.get("trigger") or {}
    if trigger.get("type") not in ("SCHEDULED_ABSOLUTE", "SCHEDULED_RELATIVE"):
        return "trigger.type is SCHEDULED_ABSOLUTE or SCHEDULED_RELATIVE"
    zone = trigger.get("timeZoneId")
    if zone is not None:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(zone)
        except Exception:
            return "timeZoneId is not a time zone"
    recurrence = trigger.get("recurrence")
    if trigger["type"] == "SCHEDULED_ABSOLUTE":
        if recurrence and recurrence.get("recurrenceRules"):
            problem = _local_time(recurrence.get("startDateTime"), "recurrence.startDateTime")
            if problem:
                return problem
            for rule in recurrence["recurrenceRules"]:
                problem = _check_rule(rule)
                if problem:
                    return problem
        else:
            problem = _local_time(trigger.get("scheduledTime"), "trigger.scheduledTime")
            if problem:
                return problem
    content = ((body.get("alertInfo") or {}).get("spokenInfo") or {}).get("content") or []
    if not content or not all(isinstance(c, dict) and c.get("locale") and c.get("text")
                              for c in content):
        return "alertInfo.spokenInfo.content needs a locale and a text"
    return None


class _Handler(BaseHTTPRequestHandler):
    server_version = "RemindersStandIn/1.0"
    state: StandInState  # set on the subclass made per server

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_DELETE(self):
        self._serve("DELETE")

    def do_PUT(self):
        self._serve("PUT")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = "not json"
        path = self.path.split("?", 1)[0]
        auth = self.headers.get("Authorization")
        state = self.state
        with state.lock:
            state.received.append(Received(method, path, auth, body))
            status, answer = self._answer(method, path, auth, body)
            delay = self._take(state.delays, method, path)
        if delay is not None:
            time.sleep(delay.seconds)  # the change is made; the answer is late
        payload = b"" if answer is None else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        try:
            self.wfile.write(payload)
        except OSError:  # the client gave up waiting
            pass

    @staticmethod
    def _take(scripted: list[_Scripted], method: str, path: str) -> _Scripted | None:
        for item in scripted:
            if item.method == method and path.startswith(item.path_prefix) and item.times:
                item.times -= 1
                return item
        return None

    def _answer(self, method: str, path: str, auth: str | None, body) -> tuple[int, dict | None]:
        state = self.state
        if not auth or not auth.startswith("Bearer ") or len(auth) <= len("Bearer "):
            return _error(401, "UNAUTHORIZED", "A bearer token is required")
        token = auth[len("Bearer "):]
        failure = self._take(state.failures, method, path)
        if failure is not None:
            return _error(failure.status, failure.code, "scripted failure")
        zone_match = TIME_ZONE_PATH.match(path)
        if zone_match and method == "GET":
            zone = state.time_zones.get(zone_match.group(1), state.default_time_zone)
            if zone is None:
                return 204, None
            return 200, zone
        if not path.startswith(REMINDERS_PATH):
            return _error(404, "NOT_FOUND", "no such resource")
        if token in state.no_permission:
            return _error(401, "USER_NOT_AUTHORIZED",
                          "The user has not granted the reminders permission")
        mine = state.reminders.setdefault(token, {})
        rest = path[len(REMINDERS_PATH):].strip("/")
        now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000")
        if method == "POST" and not rest:
            problem = validate_reminder(body)
            if problem:
                return _error(400, "INVALID_REQUEST", problem)
            if len(mine) >= state.max_reminders:
                return _error(403, "MAX_REMINDERS_EXCEEDED",
                              "The customer has reached the maximum number of reminders")
            alert_token = str(uuid.uuid4())
            mine[alert_token] = {"alertToken": alert_token, "createdTime": now,
                                 "updatedTime": now, "status": "ON", "version": "1",
                                 "trigger": body["trigger"], "alertInfo": body["alertInfo"],
                                 "pushNotification": body.get("pushNotification")}
            return 200, {"alertToken": alert_token, "createdTime": now, "updatedTime": now,
                         "status": "ON", "version": "1",
                         "href": f"{REMINDERS_PATH}/{alert_token}"}
        if method == "GET" and not rest:
            alerts = list(mine.values())
            return 200, {"totalCount": str(len(alerts)), "alerts": alerts, "links": None}
        if method == "GET":
            alert = mine.get(rest)
            return (200, alert) if alert else _error(404, "NOT_FOUND", "no such reminder")
        if method == "DELETE" and rest:
            if mine.pop(rest, None) is None:
                return _error(404, "NOT_FOUND", "no such reminder")
            return 200, None
        return _error(405, "METHOD_NOT_ALLOWED", "not supported by the stand-in")


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1 / localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Reminders stand-in CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_file, cert_file, key_file = (directory / n for n in ("ca.pem", "cert.pem", "key.pem"))
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ca_file, cert_file, key_file


class RemindersApiStandIn:
    """The stand-in server on a loopback port, in a background thread.

        with RemindersApiStandIn() as api:
            envelopes = Envelopes(api_endpoint=api.url, reminders_granted=True)
            ...  # with REQUESTS_CA_BUNDLE=api.ca_file
            assert api.created()
    """

    def __init__(self, port: int = 0):
        self._dir = tempfile.TemporaryDirectory(prefix="reminders-standin-")
        self.ca_file, cert_file, key_file = _certificates(Path(self._dir.name))
        self.state = StandInState()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "RemindersApiStandIn":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._dir.cleanup()

    # -- scripting

    def reset(self) -> None:
        with self.state.lock:
            fresh = StandInState()
            for name in ("received", "reminders", "time_zones", "no_permission", "failures",
                         "delays"):
                setattr(self.state, name, getattr(fresh, name))
            self.state.default_time_zone = fresh.default_time_zone
            self.state.max_reminders = fresh.max_reminders

    def fail(self, method: str, path_prefix: str, status: int, code: str, times: int = 1):
        """The next `times` matching requests get `status` with error `code`."""
        self.state.failures.append(_Scripted(method, path_prefix, times, status, code))

    def delay(self, method: str, path_prefix: str, seconds: float, times: int = 1):
        """The next `times` matching requests are carried out, then answered late."""
        self.state.delays.append(_Scripted(method, path_prefix, times, seconds=seconds))

    # -- what happened

    def requests(self, method: str | None = None, prefix: str = "") -> list[Received]:
        return [r for r in self.state.received
                if (method is None or r.method == method) and r.path.startswith(prefix)]

    def created(self) -> list[Received]:
        return self.requests("POST", REMINDERS_PATH)

    def active(self, token: str = "simulated-token") -> list[dict]:
        return [a for a in self.state.reminders.get(token, {}).values() if a["status"] == "ON"]


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8443)
    args = parser.parse_args(argv)
    with RemindersApiStandIn(args.port) as api:
        print(f"Reminders API stand-in on {api.url}\nCA file: {api.ca_file}\n"
              f"Try: REQUESTS_CA_BUNDLE={api.ca_file} .venv/bin/python -m skill chat "
              f"--grant-reminders --api-endpoint {api.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
