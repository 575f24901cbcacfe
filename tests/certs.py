"""A throw-away PKI that looks like Alexa's, generated in the tests.

Why: the web service verifies requests exactly as it would in production (real X.509 chain
building, real RSA signatures), so tests need certificates that can pass -- and fail --
those checks for the right reasons. Nothing here is mocked: `Pki` holds a real root CA, an
intermediate CA and a leaf whose SAN is echo-api.amazon.com, the shape of Amazon's chain.

`make_pki()` takes knobs for the broken variants (expired leaf, wrong SAN, ...). Keys are
RSA 2048 like Amazon's. `default_pki()` is cached because key generation is the slow part.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import http.client
import json
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ALEXA_DOMAIN = "echo-api.amazon.com"
CHAIN_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem"
SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"
USER_ID = "amzn1.ask.account.TESTUSERIDTHATMUSTNEVERAPPEARINLOGS"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@functools.cache
def _key(slot: str) -> rsa.RSAPrivateKey:
    """One RSA key per role; reusing keys across variants keeps the test run fast."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Pins Test PKI"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca_cert(subject: x509.Name, issuer: x509.Name, key, issuer_key,
             not_before: dt.datetime, not_after: dt.datetime,
             path_length: int | None) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer_key.public_key()), critical=False)
    )
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class Pki:
    root: x509.Certificate
    intermediate: x509.Certificate
    leaf: x509.Certificate
    leaf_key: rsa.RSAPrivateKey

    @property
    def chain_pem(self) -> bytes:
        """What Amazon serves at the SignatureCertChainUrl: leaf first, then the CA(s)."""
        return b"".join(c.public_bytes(serialization.Encoding.PEM)
                        for c in (self.leaf, self.intermediate))

    @property
    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def write_root(self, path: Path) -> Path:
        path.write_bytes(self.root_pem)
        return path

    def sign(self, body: bytes) -> str:
        """The Signature-256 header value for `body`."""
        return sign(body, self.leaf_key)

    def headers(self, body: bytes, url: str = CHAIN_URL) -> dict[str, str]:
        return {"SignatureCertChainUrl": url, "Signature-256": self.sign(body),
                "Content-Type": "application/json; charset=utf-8"}


def sign(body: bytes, key: rsa.RSAPrivateKey) -> str:
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def make_pki(*, leaf_san: tuple[str, ...] = (ALEXA_DOMAIN,),
             leaf_not_before: dt.datetime | None = None,
             leaf_not_after: dt.datetime | None = None,
             root_slot: str = "root", leaf_slot: str = "leaf",
             server_auth_eku: bool = True) -> Pki:
    """A fresh chain root -> intermediate -> leaf; each knob breaks one property."""
    now = utcnow()
    root_key, inter_key, leaf_key = _key(root_slot), _key("intermediate"), _key(leaf_slot)
    root_name = _name(f"Pins Test Root CA ({root_slot})")
    root = _ca_cert(root_name, root_name, root_key, root_key,
                    now - dt.timedelta(days=365), now + dt.timedelta(days=3650), None)
    inter_name = _name("Pins Test Intermediate CA")
    intermediate = _ca_cert(inter_name, root_name, inter_key, root_key,
                            now - dt.timedelta(days=365), now + dt.timedelta(days=1825), 0)
    ekus = [ExtendedKeyUsageOID.CLIENT_AUTH]
    if server_auth_eku:
        ekus.insert(0, ExtendedKeyUsageOID.SERVER_AUTH)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(leaf_san[0] if leaf_san else "no-san"))
        .issuer_name(inter_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(leaf_not_before or now - dt.timedelta(days=1))
        .not_valid_after(leaf_not_after or now + dt.timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in leaf_san]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=True, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            inter_key.public_key()), critical=False)
        .sign(inter_key, hashes.SHA256())
    )
    return Pki(root=root, intermediate=intermediate, leaf=leaf, leaf_key=leaf_key)


@functools.cache
def default_pki() -> Pki:
    return make_pki()


def iso(ts: dt.datetime) -> str:
    return ts.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(request_type: str = "LaunchRequest", *, timestamp: dt.datetime | None = None,
             application_id: str = SKILL_ID, user_id: str = USER_ID,
             request_extra: dict | None = None, locale: str = "en-US") -> dict:
    """A real-shaped Alexa request envelope (what the Alexa service POSTs)."""
    application = {"applicationId": application_id}
    user = {"userId": user_id}
    request = {"type": request_type, "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
               "timestamp": iso(timestamp or utcnow()), "locale": locale}
    request.update(request_extra or {})
    return {
        "version": "1.0",
        "session": {"new": True, "sessionId": f"amzn1.echo-api.session.{uuid.uuid4()}",
                    "application": application, "attributes": {}, "user": user},
        "context": {"System": {"application": application, "user": user,
                               "device": {"deviceId": "amzn1.ask.device.TEST",
                                          "supportedInterfaces": {}},
                               "apiEndpoint": "https://api.amazonalexa.com"}},
        "request": request,
    }


def body_of(env: dict) -> bytes:
    return json.dumps(env, separators=(",", ":")).encode()


def intent_envelope(name: str, slots: dict | None = None, **kw) -> dict:
    slot_objs = {k: {"name": k, "value": v, "confirmationStatus": "NONE"}
                 for k, v in (slots or {}).items()}
    return envelope("IntentRequest", request_extra={
        "dialogState": "STARTED",
        "intent": {"name": name, "confirmationStatus": "NONE", "slots": slot_objs}}, **kw)


# ------------------------------------------------------------- loopback test servers
# Real sockets on 127.0.0.1 so the chain download path (urllib, timeouts, size cap,
# redirects) is exercised for real. Each server stops when its `with` block ends.

import http.server  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402


class ChainServer:
    """Serves `routes` ({path: (status, body, headers)}) on a loopback port."""

    def __init__(self, routes: dict[str, tuple[int, bytes, dict[str, str]]]):
        self.routes = routes
        self.hits: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                outer.hits.append(self.path)
                status, body, headers = outer.routes.get(self.path, (404, b"missing", {}))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> "ChainServer":
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def chain_server(pki: Pki, path: str = "/echo.api/echo-api-cert-test.pem") -> ChainServer:
    return ChainServer({path: (200, pki.chain_pem, {"Content-Type": "application/x-pem-file"})})


class SilentServer:
    """Accepts TCP connections and never answers: a chain host that hangs."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.origin = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def __enter__(self) -> "SilentServer":
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, SIGTERM when the process that started it dies,
    so a test run killed midway (a timeout, Ctrl-C twice) leaves no server behind."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class ServeProcess:
    """`python -m skill.hosting.serve` on a free loopback port, ready when /healthz says so.

    Shared by the live-server tests and bench/loadtest.py, so both start, wait for and stop
    the real served process the same way. `args` are serve's options after --port.
    """

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path,
                 timeout: float = 30.0):
        self.port = free_port()
        self.log_path = log_path
        self._log = open(log_path, "wb")
        repo = Path(__file__).resolve().parent.parent
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "skill.hosting.serve", "--host", "127.0.0.1",
             "--port", str(self.port), *args],
            cwd=repo, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}:\n{self.log()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                try:
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        return
                finally:
                    conn.close()
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def hello_world_module():
    """bench/hello_world_skill.py, loaded by path (bench/ is not a package)."""
    import importlib.util

    name = "hello_world_skill"
    if name not in sys.modules:
        path = Path(__file__).resolve().parent.parent / "bench" / "hello_world_skill.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
