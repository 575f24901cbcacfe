"""Prove that a request really comes from Alexa, on PyCA `cryptography`.

Why this module exists: a skill hosted as a web service must check every request's
signature and timestamp ("Host a custom skill as a web service", Amazon). The official
adapter, flask-ask-sdk, does this through ask-sdk-webservice-support -> certvalidator ->
oscrypto 1.3.0, which cannot even be imported on OpenSSL >= 3.0.10 ("Error detecting the
version of libcrypto"), and certvalidator breaks under asn1crypto 1.5.1; the fix was never
released. So we keep the same behaviour, names and messages as ask-sdk-webservice-support's
`RequestVerifier` / `TimestampVerifier`, built on `cryptography.x509.verification` instead.

What is checked, in Amazon's order:

1. `SignatureCertChainUrl`: scheme https, host s3.amazonaws.com (both case-insensitive),
   path that still starts with /echo.api/ after normalisation, port 443 if any, no user
   info. We then fetch the *canonical* URL we validated, never the raw header, so parser
   differentials (``https://s3.amazonaws.com@evil.com/...``) cannot redirect the fetch.
2. The chain (fetched with a timeout, cached in a bounded LRU with a TTL no longer than the
   certificates' own lifetime) builds to a trusted root; the leaf is inside its validity
   window and names echo-api.amazon.com in its SAN.
3. `Signature-256`: base64 RSA PKCS#1 v1.5 signature with SHA-256 over the raw body bytes.
4. `request.timestamp` within 150 s of now (3,600 s for AlexaSkillEvent.* events).
5. Optionally the application id, when the operator configured SKILL_ID.

Verifiers here take the parsed JSON envelope (a dict), not ask-sdk's RequestEnvelope:
the web service verifies *before* deserialising, so request types the SDK model does not
know can still be verified (and then answered with an empty response).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import posixpath
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cachetools import TLRUCache, TTLCache
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.verification import (
    Criticality,
    DNSName,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from skill.hosting.raw_envelope import application_ids

log = logging.getLogger(__name__)

# Names and limits as in ask-sdk-webservice-support's verifier_constants and Amazon's doc.
SIGNATURE_CERT_CHAIN_URL_HEADER = "SignatureCertChainUrl"
SIGNATURE_HEADER = "Signature-256"
CERT_CHAIN_URL_PROTOCOL = "https"
CERT_CHAIN_URL_HOSTNAME = "s3.amazonaws.com"
CERT_CHAIN_URL_STARTPATH = "/echo.api/"
CERT_CHAIN_URL_PORT = 443
CERT_CHAIN_DOMAIN = "echo-api.amazon.com"
MAX_NORMAL_REQUEST_TOLERANCE_IN_MILLIS = 150_000
MAX_SKILL_EVENT_TOLERANCE_IN_MILLIS = 3_600_000
SKILL_EVENT_PREFIX = "AlexaSkillEvent."

#: A real chain is ~5 KB; anything far bigger is not Amazon's and is not worth reading.
MAX_CHAIN_BYTES = 64 * 1024
DEFAULT_FETCH_TIMEOUT = 5.0
DEFAULT_CACHE_SIZE = 8
DEFAULT_CACHE_TTL = 3600.0
#: Amazon signs with 2048-bit RSA; refuse toy keys a forger could factor.
MIN_RSA_BITS = 2048
#: Outbound downloads are the one thing an unauthenticated caller can make us do, so they
#: are bounded: a URL whose chain failed is not fetched again for FAILURE_TTL seconds, at
#: most MAX_CONCURRENT_FETCHES run at once, and at most MAX_FETCHES_PER_MINUTE start in
#: any minute (Amazon rotates its signing chain rarely; one URL per worker is the norm).
FAILURE_TTL = 60.0
FAILURE_CACHE_SIZE = 1024
MAX_CONCURRENT_FETCHES = 2
MAX_FETCHES_PER_MINUTE = 10

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class VerificationException(Exception):
    """A request failed verification. The message is for logs, not for the caller."""


class AbstractVerifier(ABC):
    """One check on an incoming request; raise VerificationException to reject it."""

    @abstractmethod
    def verify(self, headers: Mapping[str, str], body: bytes,
               envelope: Mapping[str, Any]) -> None:
        """`headers` is case-insensitive (a werkzeug Headers or similar), `body` the raw
        bytes Alexa signed, `envelope` the parsed JSON object."""


# --------------------------------------------------------------------------- URL rules


def validate_cert_chain_url(url: str) -> str:
    """Check `url` against Amazon's rules and return the canonical URL to fetch.

    Returning a rebuilt URL (scheme, lower-case host, normalised path) rather than `url`
    itself means whatever we fetch is exactly what we checked.
    """
    if not isinstance(url, str) or not url or any(ord(c) <= 0x20 or ord(c) == 0x7F
                                                  for c in url) or "\\" in url:
        raise VerificationException("Signature Certificate URL is malformed")
    try:
        parsed = urllib.parse.urlsplit(url)
        port = parsed.port
    except ValueError as exc:
        raise VerificationException(f"Signature Certificate URL is malformed: {exc}") from None
    if parsed.scheme.lower() != CERT_CHAIN_URL_PROTOCOL:
        raise VerificationException(
            f"Signature Certificate URL has invalid protocol: {parsed.scheme!r}. "
            f"Expecting {CERT_CHAIN_URL_PROTOCOL}")
    if parsed.username is not None or parsed.password is not None or "@" in parsed.netloc:
        raise VerificationException("Signature Certificate URL must not carry user info")
    hostname = parsed.hostname
    if hostname is None or hostname.lower() != CERT_CHAIN_URL_HOSTNAME:
        raise VerificationException(
            f"Signature Certificate URL has invalid hostname: {hostname!r}. "
            f"Expecting {CERT_CHAIN_URL_HOSTNAME}")
    if port is not None and port != CERT_CHAIN_URL_PORT:
        raise VerificationException(
            f"Signature Certificate URL has invalid port: {port}. "
            f"Expecting {CERT_CHAIN_URL_PORT}")
    # Decode %2e%2e and friends before normalising, so an encoded ../ cannot slip past.
    raw_path = urllib.parse.unquote(parsed.path)
    if "%" in raw_path or "\\" in raw_path or "\x00" in raw_path:
        raise VerificationException("Signature Certificate URL has invalid path encoding")
    path = posixpath.normpath(raw_path) if raw_path else ""
    if not path.startswith(CERT_CHAIN_URL_STARTPATH):  # case-sensitive, as Amazon says
        raise VerificationException(
            f"Signature Certificate URL has invalid path: {path!r}. "
            f"Expecting the path to start with {CERT_CHAIN_URL_STARTPATH}")
    if parsed.query or parsed.fragment:
        raise VerificationException("Signature Certificate URL must not carry a query")
    return f"{CERT_CHAIN_URL_PROTOCOL}://{CERT_CHAIN_URL_HOSTNAME}{urllib.parse.quote(path)}"


# ------------------------------------------------------------------------- fetching

ChainFetcher = Callable[[str], bytes]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Amazon serves the chain directly; a redirect would leave the host we validated."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401
        raise urllib.error.HTTPError(req.full_url, code, "redirect refused", headers, fp)


class HttpChainFetcher:
    """Download a certificate chain with a hard overall deadline and a size cap.

    `origin` is for tests and load runs only: it sends the (already validated) request to
    a loopback server instead of s3.amazonaws.com, e.g. ``http://127.0.0.1:8765``. It is
    refused for anything but a loopback address, so it cannot be pointed at the network.
    """

    def __init__(self, timeout: float = DEFAULT_FETCH_TIMEOUT, *,
                 max_bytes: int = MAX_CHAIN_BYTES, origin: str | None = None):
        if timeout <= 0:
            raise ValueError("fetch timeout must be positive")
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.origin = _loopback_origin(origin) if origin else None
        self._opener = urllib.request.build_opener(_NoRedirect)

    def __call__(self, url: str) -> bytes:
        if self.origin:
            url = self.origin + urllib.parse.urlsplit(url).path
        deadline = time.monotonic() + self.timeout
        try:
            with self._opener.open(url, timeout=self.timeout) as resp:
                chunks, size = [], 0
                while True:
                    if time.monotonic() > deadline:
                        raise TimeoutError("certificate chain download too slow")
                    chunk = resp.read(8192)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise VerificationException("Certificate chain is too large")
                    chunks.append(chunk)
                return b"".join(chunks)
        except VerificationException:
            raise
        except (OSError, ValueError, urllib.error.URLError) as exc:  # TimeoutError is OSError
            raise VerificationException(
                f"Unable to load certificate from URL: {type(exc).__name__}: {exc}") from None


def _loopback_origin(origin: str) -> str:
    import ipaddress

    parts = urllib.parse.urlsplit(origin)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme not in ("http", "https") or not loopback or parts.path not in ("", "/"):
        raise ValueError(f"ALEXA_CERT_CHAIN_ORIGIN must be a loopback http(s) origin, "
                         f"got {origin!r}")
    return f"{parts.scheme}://{parts.netloc}"


# ------------------------------------------------------------------------ trust roots

_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def load_trust_roots(path: str | Path | None = None) -> list[x509.Certificate]:
    """Root CAs to build Alexa's chain to.

    Default: certifi's Mozilla bundle (Amazon's roots are in it), else the system bundle.
    `path` (config ALEXA_TRUST_BUNDLE) replaces them -- used by tests and load runs to
    trust only a throw-away test CA.
    """
    if path is None:
        try:
            import certifi

            path = certifi.where()
        except ImportError:
            path = next((p for p in ("/etc/ssl/certs/ca-certificates.crt",
                                     "/etc/pki/tls/certs/ca-bundle.crt") if Path(p).exists()),
                        None)
            if path is None:
                raise RuntimeError("no CA bundle found: install certifi or set "
                                   "ALEXA_TRUST_BUNDLE") from None
    certs = []
    # One by one: a single odd root in a system bundle (certifi has one with a negative
    # serial, which cryptography deprecates) must not take every other root down with it.
    for block in _PEM_BLOCK.findall(Path(path).read_bytes()):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                certs.append(x509.load_pem_x509_certificate(block))
        except ValueError:
            log.warning("event=trust_root_skipped bundle=%s", path)
    if not certs:
        raise ValueError(f"no certificates in trust bundle {path}")
    return certs


# ------------------------------------------------------------------ signature checker


@dataclass(frozen=True)
class _SigningCert:
    public_key: rsa.RSAPublicKey
    not_before: dt.datetime
    not_after: dt.datetime
    expires_at: float  # cache deadline, wall-clock seconds


def _ee_policy() -> ExtensionPolicy:
    """Web PKI rules for the leaf, except EKU: Amazon's doc asks for no particular EKU
    (ask-sdk checked only key usage), so a change of EKU on Amazon's side must not take
    the skill down."""
    return ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None)


class RequestVerifier(AbstractVerifier):
    """Checks SignatureCertChainUrl, the chain behind it and the Signature-256 header.

    Chains are cached per canonical URL in an LRU of `cache_size` entries; an entry lives
    `cache_ttl` seconds at most and never past the earliest `not_valid_after` in its chain,
    so a cached chain cannot outlive its certificates. Failures are cached too
    (`failure_ttl`), and downloads are bounded in number and concurrency (see
    MAX_FETCHES_PER_MINUTE), so requests cannot make the server fetch on their behalf.
    A signature that cannot be an RSA-2048 signature is refused before any download.
    Thread-safe (threaded servers).
    """

    def __init__(self, *, trust_roots: Iterable[x509.Certificate] | None = None,
                 trust_bundle: str | Path | None = None,
                 fetcher: ChainFetcher | None = None,
                 cache_size: int = DEFAULT_CACHE_SIZE,
                 cache_ttl: float = DEFAULT_CACHE_TTL,
                 clock: Clock = utcnow,
                 signature_cert_chain_url_key: str = SIGNATURE_CERT_CHAIN_URL_HEADER,
                 signature_key: str = SIGNATURE_HEADER,
                 failure_ttl: float = FAILURE_TTL,
                 max_concurrent_fetches: int = MAX_CONCURRENT_FETCHES,
                 max_fetches_per_minute: int = MAX_FETCHES_PER_MINUTE):
        if cache_size < 1 or cache_ttl <= 0:
            raise ValueError("certificate cache size and TTL must be positive")
        self._roots = list(trust_roots) if trust_roots is not None else None
        self._trust_bundle = trust_bundle
        self._store: Store | None = None
        self._fetch = fetcher or HttpChainFetcher()
        self._ttl = cache_ttl
        self._clock = clock
        self._url_key = signature_cert_chain_url_key
        self._sig_key = signature_key
        self._lock = threading.Lock()
        self._fetch_locks = tuple(threading.Lock() for _ in range(16))
        self._failures: TTLCache = TTLCache(maxsize=FAILURE_CACHE_SIZE, ttl=failure_ttl)
        self._fetch_slots = threading.BoundedSemaphore(max_concurrent_fetches)
        self._fetch_budget = max_fetches_per_minute
        self._fetch_starts: list[float] = []
        self._cache: TLRUCache = TLRUCache(
            maxsize=cache_size, ttu=lambda _k, v, _now: v.expires_at,
            timer=lambda: self._clock().timestamp())

    # -- public -------------------------------------------------------------------
    def verify(self, headers: Mapping[str, str], body: bytes,
               envelope: Mapping[str, Any]) -> None:
        cert_url = _header(headers, self._url_key)
        signature = _header(headers, self._sig_key)
        if not cert_url or not signature:
            raise VerificationException("Missing Signature/Certificate for the skill request")
        try:
            raw_sig = base64.b64decode(signature.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise VerificationException("Signature is not valid base64") from None
        if len(raw_sig) < MIN_RSA_BITS // 8:
            raise VerificationException("Signature is too short for an RSA-2048 key")
        signing = self.signing_certificate(cert_url)
        now = self._clock()
        if not signing.not_before <= now <= signing.not_after:
            raise VerificationException("Signing Certificate is outside its validity period")
        if isinstance(body, str):
            body = body.encode("utf-8")
        try:
            signing.public_key.verify(raw_sig, body, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise VerificationException("Request body is not valid") from None

    def signing_certificate(self, cert_url: str) -> _SigningCert:
        """The validated signing certificate for `cert_url`, from the cache if possible."""
        canonical = validate_cert_chain_url(cert_url)
        with self._lock:
            cached = self._cache.get(canonical)
        if cached is not None:
            return cached
        # One download per URL even when many threads miss at once (a cold start under
        # load); striped locks keep that bounded whatever URLs callers send.
        with self._fetch_locks[hash(canonical) % len(self._fetch_locks)]:
            with self._lock:
                cached = self._cache.get(canonical)
            if cached is not None:
                return cached
            signing = self._fetch_and_validate(canonical)
        log.info("event=cert_chain_cached url=%s not_after=%s", canonical,
                 signing.not_after.isoformat())
        return signing

    def _fetch_and_validate(self, canonical: str) -> _SigningCert:
        """Download and check the chain, within the download bounds; remember failures."""
        with self._lock:
            failure = self._failures.get(canonical)
            if failure is None:
                now = time.monotonic()
                self._fetch_starts = [t for t in self._fetch_starts if now - t < 60.0]
                if len(self._fetch_starts) >= self._fetch_budget:
                    failure = "Too many certificate chain downloads this minute"
                else:
                    self._fetch_starts.append(now)
            else:
                failure = f"{failure} (failed recently; not fetched again yet)"
        if failure is not None:
            raise VerificationException(failure)
        if not self._fetch_slots.acquire(blocking=False):
            raise VerificationException("too many certificate chain downloads in progress")
        try:
            signing = self._validate_chain(self._fetch(canonical))
        except VerificationException as exc:
            with self._lock:
                self._failures[canonical] = str(exc)[:200]
            raise
        finally:
            self._fetch_slots.release()
        with self._lock:
            self._cache[canonical] = signing
        return signing

    def cache_info(self) -> dict[str, int]:
        with self._lock:
            return {"size": len(self._cache), "maxsize": int(self._cache.maxsize)}

    # -- internals ----------------------------------------------------------------
    def _trust_store(self) -> Store:
        with self._lock:
            if self._store is None:
                roots = self._roots if self._roots is not None else load_trust_roots(
                    self._trust_bundle)
                self._store = Store(roots)
            return self._store

    def _validate_chain(self, pem: bytes) -> _SigningCert:
        try:
            certs = x509.load_pem_x509_certificates(pem)
        except ValueError:
            raise VerificationException("Unable to load certificate from URL: not PEM") from None
        leaf, intermediates = certs[0], certs[1:]
        now = self._clock()
        if now < leaf.not_valid_before_utc:
            raise VerificationException("Signing Certificate is not valid yet")
        if now > leaf.not_valid_after_utc:
            raise VerificationException("Signing Certificate expired")
        try:
            san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            names = {n.lower() for n in san.get_values_for_type(x509.DNSName)}
        except x509.ExtensionNotFound:
            names = set()
        if CERT_CHAIN_DOMAIN not in names:
            raise VerificationException(
                f"{CERT_CHAIN_DOMAIN} domain missing in Signature Certificate Chain")
        try:
            ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
            if not ku.digital_signature:
                raise VerificationException("Signing Certificate may not sign")
        except x509.ExtensionNotFound:
            pass
        public_key = leaf.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey) or public_key.key_size < MIN_RSA_BITS:
            raise VerificationException("Signing Certificate key is not RSA >= 2048 bits")
        verifier = (PolicyBuilder().store(self._trust_store()).time(now)
                    .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(),
                                        ee_policy=_ee_policy())
                    .build_server_verifier(DNSName(CERT_CHAIN_DOMAIN)))
        try:
            chain = verifier.verify(leaf, intermediates)
        except VerificationError as exc:
            raise VerificationException(f"Certificate chain is not valid: {exc}") from None
        earliest_end = min(c.not_valid_after_utc for c in chain)
        return _SigningCert(public_key=public_key, not_before=leaf.not_valid_before_utc,
                            not_after=leaf.not_valid_after_utc,
                            expires_at=min(now.timestamp() + self._ttl,
                                           earliest_end.timestamp()))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None and not hasattr(headers, "getlist"):  # plain dict: case-insensitive scan
        lname = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lname), None)
    return value


# ------------------------------------------------------------------ timestamp checker


def parse_timestamp(value: Any) -> dt.datetime:
    """Alexa sends ISO 8601 UTC ("2024-05-01T12:00:00Z"); naive values are taken as UTC."""
    if not isinstance(value, str) or len(value) > 64:
        raise VerificationException("Timestamp verification failed: missing or not a string")
    try:
        ts = dt.datetime.fromisoformat(value)
    except ValueError:
        raise VerificationException("Timestamp verification failed: unparseable") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=dt.timezone.utc)


class TimestampVerifier(AbstractVerifier):
    """Rejects replays: the request's timestamp must be within 150 s of now.

    Skill events (AlexaSkillEvent.*) may be delivered up to an hour late, as Amazon
    documents, so they get 3,600 s. A tolerance above 150 s is clamped, as ask-sdk does.
    """

    def __init__(self, tolerance_in_millis: float = MAX_NORMAL_REQUEST_TOLERANCE_IN_MILLIS,
                 *, clock: Clock = utcnow):
        if tolerance_in_millis < 0:
            raise ValueError("Negative tolerance values not supported")
        self._tolerance = min(tolerance_in_millis, MAX_NORMAL_REQUEST_TOLERANCE_IN_MILLIS) / 1000
        self._clock = clock

    def verify(self, headers, body, envelope) -> None:
        request = envelope.get("request") if isinstance(envelope, Mapping) else None
        if not isinstance(request, Mapping):
            raise VerificationException("Timestamp verification failed: no request")
        ts = parse_timestamp(request.get("timestamp"))
        diff = abs((self._clock() - ts).total_seconds())
        if diff <= self._tolerance:
            return
        rtype = request.get("type")
        if (isinstance(rtype, str) and rtype.startswith(SKILL_EVENT_PREFIX)
                and diff <= MAX_SKILL_EVENT_TOLERANCE_IN_MILLIS / 1000):
            return
        raise VerificationException(f"Timestamp verification failed: {diff:.0f}s off")


# -------------------------------------------------------------- application id checker


class ApplicationIdVerifier(AbstractVerifier):
    """Accept only requests addressed to our skill (SKILL_ID), as Amazon requires."""

    def __init__(self, skill_id: str):
        if not skill_id:
            raise ValueError("skill_id must be non-empty")
        self.skill_id = skill_id

    def verify(self, headers, body, envelope) -> None:
        ids = application_ids(envelope)
        if not ids:
            raise VerificationException("Application id missing from the request")
        if any(i != self.skill_id for i in ids):
            raise VerificationException("Application id does not match this skill")
