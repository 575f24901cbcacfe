"""Alexa request verification, on a real (generated) PKI and real loopback downloads.

Every rejection test matches the reason, not just "it raised": a test that fails for the
wrong reason (say, a broken test signature) must not pass as "bad SAN rejected".
"""

from __future__ import annotations

import datetime as dt

import certs
import pytest
from certs import CHAIN_URL, ChainServer, SilentServer, default_pki, make_pki, utcnow
from cryptography import x509

from skill.hosting.verification import (
    ApplicationIdVerifier,
    HttpChainFetcher,
    RequestVerifier,
    TimestampVerifier,
    VerificationException,
    load_trust_roots,
    validate_cert_chain_url,
)


class Fetcher:
    """Counts downloads and serves one chain for every URL."""

    def __init__(self, pem: bytes):
        self.pem = pem
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        return self.pem


class Clock:
    def __init__(self, now: dt.datetime | None = None):
        self.now = now or utcnow()

    def __call__(self) -> dt.datetime:
        return self.now


def verifier(pki=None, *, roots=None, fetcher=None, **kw) -> RequestVerifier:
    pki = pki or default_pki()
    return RequestVerifier(trust_roots=roots or [pki.root], fetcher=fetcher or Fetcher(
        pki.chain_pem), **kw)


def signed(pki=None, env=None):
    pki = pki or default_pki()
    body = certs.body_of(env or certs.envelope())
    return pki.headers(body), body


# ------------------------------------------------------------------------ happy path

def test_valid_request_passes_and_chain_is_fetched_once():
    fetch = Fetcher(default_pki().chain_pem)
    v = verifier(fetcher=fetch)
    for _ in range(3):
        headers, body = signed()
        v.verify(headers, body, {})
    assert fetch.urls == [CHAIN_URL]


def test_header_names_are_case_insensitive_in_a_plain_dict():
    headers, body = signed()
    lowered = {k.lower(): v for k, v in headers.items()}
    verifier().verify(lowered, body, {})


# -------------------------------------------------------------------- header problems

@pytest.mark.parametrize("drop", ["SignatureCertChainUrl", "Signature-256"])
def test_missing_header_is_rejected(drop):
    headers, body = signed()
    del headers[drop]
    with pytest.raises(VerificationException, match="Missing Signature/Certificate"):
        verifier().verify(headers, body, {})


def test_legacy_sha1_signature_header_alone_is_not_enough():
    headers, body = signed()
    headers["Signature"] = headers.pop("Signature-256")
    with pytest.raises(VerificationException, match="Missing Signature"):
        verifier().verify(headers, body, {})


def test_signature_by_another_key_is_rejected():
    other = make_pki(leaf_slot="attacker")
    headers, body = signed()
    headers["Signature-256"] = other.sign(body)
    with pytest.raises(VerificationException, match="Request body is not valid"):
        verifier().verify(headers, body, {})


def test_tampered_body_is_rejected():
    headers, body = signed()
    tampered = body.replace(b"LaunchRequest", b"SessionEndedRequest")
    assert tampered != body
    with pytest.raises(VerificationException, match="Request body is not valid"):
        verifier().verify(headers, tampered, {})


def test_signature_that_is_not_base64_is_rejected():
    headers, body = signed()
    headers["Signature-256"] = "not*base64!"
    with pytest.raises(VerificationException, match="not valid base64"):
        verifier().verify(headers, body, {})


# ----------------------------------------------------------------------- URL rules

BAD_URLS = [
    ("http://s3.amazonaws.com/echo.api/echo-api-cert.pem", "invalid protocol"),
    ("ftp://s3.amazonaws.com/echo.api/echo-api-cert.pem", "invalid protocol"),
    ("https://notamazon.com/echo.api/echo-api-cert.pem", "invalid hostname"),
    ("https://s3.amazonaws.com.evil.com/echo.api/echo-api-cert.pem", "invalid hostname"),
    ("https://s3.amazonaws.com./echo.api/echo-api-cert.pem", "invalid hostname"),
    ("https:///echo.api/echo-api-cert.pem", "invalid hostname"),
    ("https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem", "invalid path"),
    ("https://s3.amazonaws.com/invalid.path/echo-api-cert.pem", "invalid path"),
    ("https://s3.amazonaws.com/echo.api/../invalid.path/echo-api-cert.pem", "invalid path"),
    ("https://s3.amazonaws.com/echo.api/../../echo.api/../x.pem", "invalid path"),
    ("https://s3.amazonaws.com/echo.api/%2e%2e/invalid.path/x.pem", "invalid path"),
    ("https://s3.amazonaws.com/echo.api/..%2Finvalid.path/x.pem", "invalid path"),
    ("https://s3.amazonaws.com/echo.api/%252e%252e/x.pem", "invalid path encoding"),
    ("https://s3.amazonaws.com//echo.api/echo-api-cert.pem", "invalid path"),
    ("https://s3.amazonaws.com/echo.api", "invalid path"),
    ("https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem", "invalid port"),
    ("https://s3.amazonaws.com:8443/echo.api/echo-api-cert.pem", "invalid port"),
    ("https://s3.amazonaws.com:99999/echo.api/echo-api-cert.pem", "malformed"),
    ("https://s3.amazonaws.com:443:80/echo.api/echo-api-cert.pem", "malformed"),
    ("https://s3.amazonaws.com@evil.com/echo.api/echo-api-cert.pem", "user info"),
    ("https://evil.com@s3.amazonaws.com/echo.api/echo-api-cert.pem", "user info"),
    ("https://user:pw@s3.amazonaws.com/echo.api/echo-api-cert.pem", "user info"),
    ("https://s3.amazonaws.com\\@evil.com/echo.api/echo-api-cert.pem", "malformed"),
    ("https://s3.amazonaws.com/echo.api/x.pem?redirect=evil", "query"),
    ("https://s3.amazonaws.com/echo.api/x.pem#frag", "query"),
    (" https://s3.amazonaws.com/echo.api/echo-api-cert.pem", "malformed"),
    ("https://s3.amazonaws.com/echo.api/x\n.pem", "malformed"),
    ("", "Missing Signature"),
]


@pytest.mark.parametrize(("url", "reason"), BAD_URLS)
def test_every_url_rule_is_enforced_and_nothing_is_fetched(url, reason):
    fetch = Fetcher(default_pki().chain_pem)
    headers, body = signed()
    headers["SignatureCertChainUrl"] = url
    with pytest.raises(VerificationException, match=reason):
        verifier(fetcher=fetch).verify(headers, body, {})
    assert fetch.urls == []


GOOD_URLS = [
    ("https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
     "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"),
    ("HTTPS://s3.amazonaws.com/echo.api/echo-api-cert.pem",
     "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"),
    ("https://S3.AMAZONAWS.COM/echo.api/echo-api-cert.pem",
     "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"),
    ("https://s3.amazonaws.com:443/echo.api/echo-api-cert.pem",
     "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"),
    ("https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert.pem",
     "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"),
]


@pytest.mark.parametrize(("url", "canonical"), GOOD_URLS)
def test_amazon_documented_good_urls_are_accepted_and_fetched_canonically(url, canonical):
    assert validate_cert_chain_url(url) == canonical
    fetch = Fetcher(default_pki().chain_pem)
    headers, body = signed()
    headers["SignatureCertChainUrl"] = url
    verifier(fetcher=fetch).verify(headers, body, {})
    assert fetch.urls == [canonical]


# --------------------------------------------------------------------- the chain itself

def test_expired_leaf_is_rejected():
    pki = make_pki(leaf_not_before=utcnow() - dt.timedelta(days=30),
                   leaf_not_after=utcnow() - dt.timedelta(seconds=5))
    headers, body = signed(pki)
    with pytest.raises(VerificationException, match="Signing Certificate expired"):
        verifier(pki).verify(headers, body, {})


def test_not_yet_valid_leaf_is_rejected():
    pki = make_pki(leaf_not_before=utcnow() + dt.timedelta(hours=1))
    headers, body = signed(pki)
    with pytest.raises(VerificationException, match="not valid yet"):
        verifier(pki).verify(headers, body, {})


@pytest.mark.parametrize("san", [("echo-api.amazon.com.evil.com",), ("evil.com",),
                                 ("api.amazon.com", "www.amazon.com")])
def test_leaf_without_alexa_san_is_rejected(san):
    pki = make_pki(leaf_san=san)
    headers, body = signed(pki)
    with pytest.raises(VerificationException, match="echo-api.amazon.com domain missing"):
        verifier(pki).verify(headers, body, {})


def test_chain_to_an_untrusted_root_is_rejected():
    """A forger can mint a perfect-looking chain; only the trust store stops it."""
    forged = make_pki(root_slot="forger-root")
    headers, body = signed(forged)
    with pytest.raises(VerificationException, match="Certificate chain is not valid"):
        verifier(forged, roots=[default_pki().root]).verify(headers, body, {})


def test_leaf_alone_without_its_intermediate_is_rejected():
    pki = default_pki()
    from cryptography.hazmat.primitives.serialization import Encoding

    headers, body = signed(pki)
    leaf_only = Fetcher(pki.leaf.public_bytes(Encoding.PEM))
    with pytest.raises(VerificationException, match="Certificate chain is not valid"):
        verifier(pki, fetcher=leaf_only).verify(headers, body, {})


def test_leaf_without_server_auth_eku_is_still_accepted():
    """Amazon's doc asks for no EKU; the check must not depend on one."""
    pki = make_pki(server_auth_eku=False)
    headers, body = signed(pki)
    verifier(pki).verify(headers, body, {})


def test_garbage_instead_of_a_chain_is_rejected():
    headers, body = signed()
    with pytest.raises(VerificationException, match="Unable to load certificate"):
        verifier(fetcher=Fetcher(b"<html>Access Denied</html>")).verify(headers, body, {})


def test_fetch_failure_is_a_verification_failure():
    def broken(url):
        raise VerificationException("Unable to load certificate from URL: boom")

    headers, body = signed()
    with pytest.raises(VerificationException, match="Unable to load certificate"):
        verifier(fetcher=broken).verify(headers, body, {})


def test_default_trust_roots_include_amazons_root():
    roots = load_trust_roots()
    names = {r.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
             for r in roots if r.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)}
    assert "Amazon Root CA 1" in names


# ------------------------------------------------------------------------- the cache

def test_cache_is_bounded_lru():
    fetch = Fetcher(default_pki().chain_pem)
    v = verifier(fetcher=fetch, cache_size=2)
    urls = [f"https://s3.amazonaws.com/echo.api/cert-{i}.pem" for i in range(3)]
    for url in urls + urls[-1:]:
        v.signing_certificate(url)
    assert v.cache_info() == {"size": 2, "maxsize": 2}
    assert len(fetch.urls) == 3
    v.signing_certificate(urls[0])  # evicted as least recently used: fetched again
    assert len(fetch.urls) == 4


def test_cache_entry_expires_after_ttl():
    clock = Clock()
    fetch = Fetcher(default_pki().chain_pem)
    v = verifier(fetcher=fetch, cache_ttl=60, clock=clock)
    v.signing_certificate(CHAIN_URL)
    clock.now += dt.timedelta(seconds=59)
    v.signing_certificate(CHAIN_URL)
    assert len(fetch.urls) == 1
    clock.now += dt.timedelta(seconds=2)
    v.signing_certificate(CHAIN_URL)
    assert len(fetch.urls) == 2


def test_cached_chain_never_outlives_its_leaf():
    clock = Clock()
    pki = make_pki(leaf_not_after=clock.now + dt.timedelta(minutes=10))
    fetch = Fetcher(pki.chain_pem)
    v = verifier(pki, fetcher=fetch, cache_ttl=3600, clock=clock)
    headers, body = signed(pki)
    v.verify(headers, body, {})
    clock.now += dt.timedelta(minutes=11)
    with pytest.raises(VerificationException, match="expired"):
        v.verify(headers, body, {})
    assert len(fetch.urls) == 2  # the stale entry was dropped and the chain re-checked


def test_concurrent_cache_misses_download_once():
    import threading
    import time

    class SlowFetcher(Fetcher):
        def __call__(self, url):
            time.sleep(0.2)
            return super().__call__(url)

    fetch = SlowFetcher(default_pki().chain_pem)
    v = verifier(fetcher=fetch)
    threads = [threading.Thread(target=v.signing_certificate, args=(CHAIN_URL,))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fetch.urls == [CHAIN_URL]


# ------------------------------------------------------------ real loopback downloads

def test_http_fetcher_downloads_from_a_real_server():
    pki = default_pki()
    with certs.chain_server(pki) as server:
        v = verifier(pki, fetcher=HttpChainFetcher(timeout=5, origin=server.origin))
        headers, body = signed(pki)
        v.verify(headers, body, {})
        v.verify(headers, body, {})
    assert server.hits == ["/echo.api/echo-api-cert-test.pem"]


def test_http_fetcher_reports_404():
    with ChainServer({}) as server:
        fetch = HttpChainFetcher(timeout=5, origin=server.origin)
        with pytest.raises(VerificationException, match="Unable to load.*404"):
            fetch(CHAIN_URL)


def test_http_fetcher_times_out_on_a_server_that_never_answers():
    with SilentServer() as server:
        fetch = HttpChainFetcher(timeout=0.3, origin=server.origin)
        with pytest.raises(VerificationException, match="Unable to load.*(timed out|Timeout)"):
            fetch(CHAIN_URL)


def test_http_fetcher_refuses_redirects():
    routes = {"/echo.api/echo-api-cert-test.pem": (302, b"", {"Location": "/elsewhere"}),
              "/elsewhere": (200, default_pki().chain_pem, {})}
    with ChainServer(routes) as server:
        fetch = HttpChainFetcher(timeout=5, origin=server.origin)
        with pytest.raises(VerificationException, match="redirect refused"):
            fetch(CHAIN_URL)
    assert server.hits == ["/echo.api/echo-api-cert-test.pem"]


def test_http_fetcher_caps_the_download_size():
    routes = {"/echo.api/echo-api-cert-test.pem": (200, b"A" * 200_000, {})}
    with ChainServer(routes) as server:
        fetch = HttpChainFetcher(timeout=5, origin=server.origin, max_bytes=64 * 1024)
        with pytest.raises(VerificationException, match="too large"):
            fetch(CHAIN_URL)


@pytest.mark.parametrize("origin", ["http://10.0.0.1:80", "http://example.com",
                                    "file:///etc", "http://127.0.0.1:1/path"])
def test_origin_override_is_loopback_only(origin):
    with pytest.raises(ValueError, match="loopback"):
        HttpChainFetcher(origin=origin)


# ------------------------------------------------------------------------- timestamps

def _ts_env(offset_s: float, rtype: str = "LaunchRequest", clock: Clock | None = None):
    now = (clock or Clock()).now
    return {"request": {"type": rtype,
                        "timestamp": certs.iso(now + dt.timedelta(seconds=offset_s))}}


@pytest.mark.parametrize("offset", [0, -149, 149])
def test_timestamp_within_150s_passes(offset):
    clock = Clock()
    TimestampVerifier(clock=clock).verify({}, b"", _ts_env(offset, clock=clock))


@pytest.mark.parametrize("offset", [-151, 151, -86400])
def test_stale_or_future_timestamp_is_rejected(offset):
    clock = Clock()
    with pytest.raises(VerificationException, match="Timestamp verification failed"):
        TimestampVerifier(clock=clock).verify({}, b"", _ts_env(offset, clock=clock))


def test_skill_events_get_an_hour():
    clock = Clock()
    v = TimestampVerifier(clock=clock)
    v.verify({}, b"", _ts_env(-3000, "AlexaSkillEvent.SkillEnabled", clock))
    with pytest.raises(VerificationException, match="Timestamp"):
        v.verify({}, b"", _ts_env(-3601, "AlexaSkillEvent.SkillEnabled", clock))
    with pytest.raises(VerificationException, match="Timestamp"):
        v.verify({}, b"", _ts_env(-3000, "LaunchRequest", clock))


@pytest.mark.parametrize("value", [None, 12345, "yesterday", "", "2024-13-45T00:00:00Z",
                                   ["2024-01-01T00:00:00Z"]])
def test_missing_or_malformed_timestamp_is_rejected(value):
    with pytest.raises(VerificationException, match="Timestamp verification failed"):
        TimestampVerifier().verify({}, b"", {"request": {"type": "LaunchRequest",
                                                         "timestamp": value}})


def test_naive_timestamp_is_read_as_utc():
    clock = Clock()
    naive = clock.now.replace(tzinfo=None).isoformat()
    TimestampVerifier(clock=clock).verify({}, b"", {"request": {"timestamp": naive}})


def test_timestamp_tolerance_is_clamped_and_never_negative():
    clock = Clock()
    with pytest.raises(VerificationException):
        TimestampVerifier(10_000_000, clock=clock).verify({}, b"", _ts_env(-200, clock=clock))
    with pytest.raises(ValueError):
        TimestampVerifier(-1)


# --------------------------------------------------------------------- application id

def test_application_id_must_match_everywhere_it_appears():
    v = ApplicationIdVerifier(certs.SKILL_ID)
    v.verify({}, b"", certs.envelope())
    wrong = certs.envelope(application_id="amzn1.ask.skill.someone-else")
    with pytest.raises(VerificationException, match="does not match"):
        v.verify({}, b"", wrong)
    half = certs.envelope()
    half["session"]["application"]["applicationId"] = "amzn1.ask.skill.someone-else"
    with pytest.raises(VerificationException, match="does not match"):
        v.verify({}, b"", half)
    with pytest.raises(VerificationException, match="missing"):
        v.verify({}, b"", {"request": {"type": "LaunchRequest"}})


# ------------------------------------------- bounded downloads (issue 11, item 7)

def _unsigned_headers(url: str) -> dict[str, str]:
    """What a forger sends: any SignatureCertChainUrl, a signature-sized random blob."""
    import base64
    import os

    return {"SignatureCertChainUrl": url,
            "Signature-256": base64.b64encode(os.urandom(256)).decode()}


def test_a_failing_chain_url_is_fetched_once_not_per_request():
    with ChainServer({}) as server:  # every path 404s, over real HTTP
        v = verifier(fetcher=HttpChainFetcher(timeout=2, origin=server.origin))
        url = "https://s3.amazonaws.com/echo.api/missing.pem"
        for _ in range(25):
            with pytest.raises(VerificationException):
                v.verify(_unsigned_headers(url), b"{}", {})
        assert server.hits == ["/echo.api/missing.pem"]


def test_new_chain_urls_are_fetched_at_most_ten_a_minute():
    with ChainServer({}) as server:
        v = verifier(fetcher=HttpChainFetcher(timeout=2, origin=server.origin))
        for i in range(25):
            url = f"https://s3.amazonaws.com/echo.api/attacker-{i}.pem"
            with pytest.raises(VerificationException):
                v.verify(_unsigned_headers(url), b"{}", {})
        assert len(server.hits) == 10


def test_concurrent_chain_downloads_are_bounded():
    import threading

    gate = threading.Event()
    running, peak, lock = [0], [0], threading.Lock()

    def hanging(url):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        gate.wait(10)
        with lock:
            running[0] -= 1
        raise VerificationException("Unable to load certificate from URL: hung")

    v = verifier(fetcher=hanging)
    threads = [threading.Thread(target=lambda i=i: pytest.raises(
        VerificationException, v.signing_certificate,
        f"https://s3.amazonaws.com/echo.api/slow-{i}.pem")) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads[:6]:
        t.join(5)  # the ones refused for want of a download slot return at once
    gate.set()
    for t in threads:
        t.join()
    assert peak[0] == 2


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", "%%%", "QUJD" * 10])
def test_a_signature_that_cannot_be_rsa_2048_fetches_nothing(signature):
    fetch = Fetcher(default_pki().chain_pem)
    with pytest.raises(VerificationException):
        verifier(fetcher=fetch).verify({"SignatureCertChainUrl": CHAIN_URL,
                                        "Signature-256": signature}, b"{}", {})
    assert fetch.urls == []
