"""The Flask web service: verification wiring, every kind of bad input, config, logs, fuzz.

Requests are real Alexa-shaped envelopes signed with a generated test PKI; the skill is
the hello-world baseline (bench/hello_world_skill.py) unless a test says otherwise, so a
failure here points at the hosting layer, not at dialog code.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import logging
import os

import certs
import pytest
from certs import CHAIN_URL, SKILL_ID, USER_ID, default_pki, make_pki, utcnow
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skill.hosting.verification import RequestVerifier, VerificationException
from skill.hosting.webservice import (
    DEFAULTS,
    EMPTY_RESPONSE,
    ENV_KEYS,
    FAILED_VERIFICATION,
    create_app,
    load_config,
    short_id,
)

ALLOWED_STATUSES = {200, 400, 404, 405, 413}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """The developer's shell (SKILL_ID, ASK_SDK_VERIFY_*) must not leak into tests."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.INFO, logger="skill.hosting")
    return caplog


def hello_skill():
    return certs.hello_world_module().build_skill()


def test_verifier(pki=None) -> RequestVerifier:
    pki = pki or default_pki()
    return RequestVerifier(trust_roots=[pki.root], fetcher=lambda url: pki.chain_pem)


test_verifier.__test__ = False  # a factory, not a test


def make_app(config=None, *, skill=None, pki=None, **kw):
    return create_app(skill or hello_skill(), config, request_verifier=test_verifier(pki), **kw)


def post(client, body: bytes, headers=None, **kw):
    return client.post("/", data=body, headers=headers or {}, **kw)


def signed_post(client, env=None, pki=None, **kw):
    pki = pki or default_pki()
    body = certs.body_of(env or certs.envelope())
    return post(client, body, pki.headers(body), **kw)


# --------------------------------------------------------------------------- success

def test_signed_launch_request_gets_the_skills_answer():
    resp = signed_post(make_app().test_client())
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    data = resp.get_json()
    assert data["version"] == "1.0"
    assert "Welcome" in data["response"]["outputSpeech"]["ssml"]


def test_signed_intent_request_is_dispatched_to_its_handler():
    env = certs.intent_envelope("HelloWorldIntent")
    data = signed_post(make_app().test_client(), env).get_json()
    assert data["response"]["outputSpeech"]["ssml"] == "<speak>Hello World!</speak>"


def test_healthz():
    resp = make_app().test_client().get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "verify_signature": True,
                               "verify_timestamp": True}


# ---------------------------------------------------------------- verification -> 400

def _rejected(resp, logs, reason: str):
    assert resp.status_code == 400
    assert resp.get_json() == {"error": FAILED_VERIFICATION}
    lines = [r.getMessage() for r in logs.records if "alexa_request_rejected" in r.getMessage()]
    assert lines and reason in lines[-1], lines


def test_unsigned_request_is_rejected(logs):
    body = certs.body_of(certs.envelope())
    _rejected(post(make_app().test_client(), body), logs, "Missing Signature/Certificate")


def test_bad_signature_is_rejected(logs):
    body = certs.body_of(certs.envelope())
    headers = default_pki().headers(body)
    headers["Signature-256"] = make_pki(leaf_slot="attacker").sign(body)
    _rejected(post(make_app().test_client(), body, headers), logs, "Request body is not valid")


def test_tampered_body_is_rejected(logs):
    body = certs.body_of(certs.envelope())
    headers = default_pki().headers(body)
    tampered = body.replace(b'"new":true', b'"new":false')
    assert tampered != body
    _rejected(post(make_app().test_client(), tampered, headers), logs,
              "Request body is not valid")


def test_bad_chain_url_is_rejected(logs):
    body = certs.body_of(certs.envelope())
    headers = default_pki().headers(body,
                                    url="https://s3.amazonaws.com@evil.com/echo.api/c.pem")
    _rejected(post(make_app().test_client(), body, headers), logs, "user info")


def test_untrusted_chain_is_rejected(logs):
    forged = make_pki(root_slot="forger-root")
    app = create_app(hello_skill(), request_verifier=RequestVerifier(
        trust_roots=[default_pki().root], fetcher=lambda url: forged.chain_pem))
    _rejected(signed_post(app.test_client(), pki=forged), logs, "chain is not valid")


@pytest.mark.parametrize("offset", [-200, 200])
def test_stale_or_future_timestamp_is_rejected(logs, offset):
    env = certs.envelope(timestamp=utcnow() + dt.timedelta(seconds=offset))
    _rejected(signed_post(make_app().test_client(), env), logs, "Timestamp verification")


def test_wrong_application_id_is_rejected_when_skill_id_is_set(logs, monkeypatch):
    monkeypatch.setenv("SKILL_ID", SKILL_ID)
    app = make_app()
    assert signed_post(app.test_client()).status_code == 200
    env = certs.envelope(application_id="amzn1.ask.skill.someone-else")
    _rejected(signed_post(app.test_client(), env), logs, "Application id does not match")


def test_unknown_request_type_is_still_verified(logs):
    body = certs.body_of(certs.envelope("Alexa.Brand.New.Event"))
    _rejected(post(make_app().test_client(), body), logs, "Missing Signature")


# ------------------------------------------------------- configuration-driven verifier

def test_env_config_alone_wires_trust_bundle_and_chain_origin(tmp_path, monkeypatch):
    """What `serve` does in tests/load runs: no injected objects, only env vars."""
    pki = default_pki()
    monkeypatch.setenv("ALEXA_TRUST_BUNDLE", str(pki.write_root(tmp_path / "root.pem")))
    with certs.chain_server(pki) as server:
        monkeypatch.setenv("ALEXA_CERT_CHAIN_ORIGIN", server.origin)
        app = create_app(hello_skill())
        client = app.test_client()
        assert signed_post(client).status_code == 200
        assert signed_post(client).status_code == 200
    assert server.hits == ["/echo.api/echo-api-cert-test.pem"]  # cached after the first


def test_chain_fetch_timeout_is_a_400_not_a_hang_or_500(tmp_path, logs):
    pki = default_pki()
    with certs.SilentServer() as silent:
        app = create_app(hello_skill(), {
            "ALEXA_TRUST_BUNDLE": str(pki.write_root(tmp_path / "root.pem")),
            "ALEXA_CERT_CHAIN_ORIGIN": silent.origin,
            "ALEXA_CERT_FETCH_TIMEOUT": 0.3})
        _rejected(signed_post(app.test_client()), logs, "Unable to load certificate")


def test_default_trust_store_rejects_the_test_pki(logs):
    """With no ALEXA_TRUST_BUNDLE, only public roots count: our test CA is not one."""
    pki = default_pki()
    with certs.chain_server(pki) as server:
        app = create_app(hello_skill(), {"ALEXA_CERT_CHAIN_ORIGIN": server.origin})
        _rejected(signed_post(app.test_client()), logs, "chain is not valid")


@pytest.mark.parametrize("value", ["false", "0", "no", "OFF"])
def test_verification_can_be_switched_off_by_env(monkeypatch, value):
    monkeypatch.setenv("ASK_SDK_VERIFY_SIGNATURE", value)
    monkeypatch.setenv("ASK_SDK_VERIFY_TIMESTAMP", value)
    app = create_app(hello_skill())
    old = certs.envelope(timestamp=utcnow() - dt.timedelta(days=1))
    assert post(app.test_client(), certs.body_of(old)).status_code == 200
    assert app.test_client().get("/healthz").get_json()["verify_signature"] is False


def test_verification_is_on_by_default_and_config_beats_env(monkeypatch):
    assert load_config({}, environ={})["ASK_SDK_VERIFY_SIGNATURE"] is True
    assert load_config({}, environ={})["ASK_SDK_VERIFY_TIMESTAMP"] is True
    monkeypatch.setenv("ASK_SDK_VERIFY_SIGNATURE", "false")
    cfg = load_config({"ASK_SDK_VERIFY_SIGNATURE": True})
    assert cfg["ASK_SDK_VERIFY_SIGNATURE"] is True


@pytest.mark.parametrize(("key", "value"), [("ASK_SDK_VERIFY_SIGNATURE", "flase"),
                                            ("ALEXA_CERT_FETCH_TIMEOUT", "soon"),
                                            ("ALEXA_CERT_CACHE_SIZE", "0"),
                                            ("ALEXA_CERT_CACHE_TTL", "-5")])
def test_malformed_config_fails_loudly_at_startup(monkeypatch, key, value):
    monkeypatch.setenv(key, value)
    with pytest.raises(ValueError, match=key):
        create_app(hello_skill())


def test_config_defaults_are_documented_values():
    assert DEFAULTS["MAX_CONTENT_LENGTH"] == 256 * 1024
    assert load_config({}, environ={"SKILL_ID": "  "})["SKILL_ID"] is None


# --------------------------------------------------------------------- bad input -> 4xx

def test_body_over_256kb_is_413():
    client = make_app().test_client()
    env = certs.envelope(request_extra={"pad": "x" * (256 * 1024)})
    resp = signed_post(client, env)
    assert resp.status_code == 413
    assert resp.get_json() == {"error": "Request Entity Too Large"}


def test_chunked_body_over_256kb_is_413_not_truncated():
    client = make_app().test_client()
    resp = client.post("/", input_stream=io.BytesIO(b"{" + b" " * (300 * 1024) + b"}"),
                       headers={"Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})
    assert resp.status_code == 413


def test_chunked_body_within_the_limit_is_read_whole():
    client = create_app(hello_skill(), {"ASK_SDK_VERIFY_SIGNATURE": False}).test_client()
    body = certs.body_of(certs.envelope())
    resp = client.post("/", input_stream=io.BytesIO(body),
                       headers={"Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})
    assert resp.status_code == 200


@pytest.mark.parametrize(("body", "error"), [
    (b"", "not UTF-8 JSON"),
    (b"hello", "not UTF-8 JSON"),
    (b"\xff\xfe{}", "not UTF-8 JSON"),
    (b"[" * 100_000, "not UTF-8 JSON"),
    (b"[]", "not an Alexa request envelope"),
    (b'"LaunchRequest"', "not an Alexa request envelope"),
    (b"{}", "not an Alexa request envelope"),
    (b'{"version":"1.0"}', "not an Alexa request envelope"),
    (b'{"version":"1.0","request":"LaunchRequest"}', "not an Alexa request envelope"),
    (b'{"version":"1.0","request":{"type":7}}', "not an Alexa request envelope"),
    (b'{"version":"1.0","request":{"type":""}}', "not an Alexa request envelope"),
    (b'{"request":{"type":"LaunchRequest"}}', "not an Alexa request envelope"),
])
def test_not_json_or_not_an_envelope_is_400(body, error):
    for verify in (True, False):
        app = make_app({"ASK_SDK_VERIFY_SIGNATURE": verify})
        resp = post(app.test_client(), body, {"Content-Type": "application/json"})
        assert resp.status_code == 400
        assert error in resp.get_json()["error"]


def test_signed_envelope_with_malformed_members_is_answered_without_them():
    env = certs.intent_envelope("HelloWorldIntent")
    env["request"]["intent"]["slots"] = [1, 2, 3]
    resp = signed_post(make_app().test_client(), env)
    assert resp.status_code == 200
    assert resp.get_json()["response"]["outputSpeech"]["ssml"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_method_is_405_with_allow_header(method):
    resp = make_app().test_client().open("/", method=method)
    assert resp.status_code == 405
    assert "POST" in resp.headers["Allow"]
    assert resp.get_json() == {"error": "Method Not Allowed"}


def test_unknown_path_is_json_404():
    resp = make_app().test_client().post("/alexa", data=b"{}")
    assert resp.status_code == 404
    assert resp.get_json() == {"error": "Not Found"}


def test_unknown_request_type_gets_a_valid_empty_response():
    env = certs.envelope("Alexa.Brand.New.Event")
    resp = signed_post(make_app().test_client(), env)
    assert resp.status_code == 200
    assert resp.get_json() == EMPTY_RESPONSE


def test_extra_verifiers_run_after_the_built_in_ones_and_fail_closed(logs):
    class Deny:
        def verify(self, headers, body, envelope):
            raise VerificationException("denied by policy")

    class Buggy:
        def verify(self, headers, body, envelope):
            raise KeyError("oops")

    _rejected(signed_post(make_app(verifiers=[Deny()]).test_client()), logs,
              "denied by policy")
    _rejected(signed_post(make_app(verifiers=[Buggy()]).test_client()), logs,
              "verifier error")


# ------------------------------------------------------------ skill failures -> JSON

class ExplodingSkill:
    """A skill whose invoke raises, as a bug deep in a handler would."""

    def __init__(self, exc: BaseException):
        from ask_sdk_core.serialize import DefaultSerializer

        self.serializer = DefaultSerializer()
        self.exc = exc

    def invoke(self, request_envelope, context):
        raise self.exc


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyError("state"),
                                 RecursionError("deep")])
def test_exception_inside_the_skill_is_a_spoken_apology_not_a_500(logs, exc):
    resp = signed_post(make_app(skill=ExplodingSkill(exc)).test_client())
    assert resp.status_code == 200
    data = resp.get_json()
    assert "Sorry" in data["response"]["outputSpeech"]["ssml"]
    assert data["response"]["shouldEndSession"] is True
    assert "Traceback" not in resp.get_data(as_text=True)
    assert any("skill_error" in r.getMessage() and r.exc_info for r in logs.records)


def test_sdk_skill_id_mismatch_is_handled_too():
    """The SDK's own skill-id check raises outside the skill's exception handlers."""
    builder = certs.hello_world_module().skill_builder()
    builder.skill_id = "amzn1.ask.skill.another"
    resp = signed_post(make_app(skill=builder.create()).test_client())
    assert resp.status_code == 200
    assert "Sorry" in resp.get_json()["response"]["outputSpeech"]["ssml"]


# --------------------------------------------------------------------------- the logs

def test_logs_are_key_value_and_never_hold_the_user_id(logs):
    app = make_app({"SKILL_ID": SKILL_ID})
    client = app.test_client()
    signed_post(client)
    post(client, certs.body_of(certs.envelope()))  # unsigned: rejected
    signed_post(client, certs.envelope(application_id="amzn1.ask.skill.x"))
    text = "\n".join(r.getMessage() for r in logs.records)
    assert USER_ID not in text
    assert USER_ID[10:30] not in text
    assert f"user={short_id(USER_ID)}" in text
    assert "event=alexa_request status=200 type=LaunchRequest" in text
    assert "event=alexa_request_rejected status=400" in text


# ---------------------------------------------------------------------- the real skill

def test_default_skill_is_pins_and_needles_with_sqlite_memory(monkeypatch, tmp_path):
    """create_app() with no skill serves the project's skill, not the baseline, and keeps
    long-term memory in the SQLite file SKILL_SQLITE_PATH names."""
    db = tmp_path / "memory.sqlite3"
    monkeypatch.setenv("SKILL_SQLITE_PATH", str(db))
    monkeypatch.delenv("SKILL_TABLE", raising=False)
    app = create_app(config={"ASK_SDK_VERIFY_SIGNATURE": False})
    resp = post(app.test_client(), certs.body_of(certs.envelope()))
    assert resp.status_code == 200
    data = resp.get_json()
    assert "Pins and Needles" in data["response"]["outputSpeech"]["ssml"]
    assert db.exists()


def test_web_service_logs_each_request_once_with_intent_and_locale(monkeypatch, tmp_path,
                                                                  caplog):
    """The served skill leaves its request-log line to the web service, whose one line
    per request carries the same fields; the Lambda's skill keeps its own line."""
    from skill.alexa.builder import build_skill

    caplog.set_level(logging.INFO, logger="skill")
    monkeypatch.setenv("SKILL_SQLITE_PATH", str(tmp_path / "memory.sqlite3"))
    monkeypatch.delenv("SKILL_TABLE", raising=False)
    app = create_app(config={"ASK_SDK_VERIFY_SIGNATURE": False})
    env = certs.intent_envelope("AMAZON.HelpIntent", locale="en-GB")
    assert post(app.test_client(), certs.body_of(env)).status_code == 200
    lines = [r.getMessage() for r in caplog.records]
    served = [line for line in lines if "AMAZON.HelpIntent" in line]
    assert len(served) == 1, lines
    assert "event=alexa_request status=200 type=IntentRequest intent=AMAZON.HelpIntent " \
           "locale=en-GB " in served[0]
    assert f"user={short_id(USER_ID)}" in served[0]

    caplog.clear()
    app = create_app(build_skill(), {"ASK_SDK_VERIFY_SIGNATURE": False})
    assert post(app.test_client(), certs.body_of(env)).status_code == 200
    lines = [r.getMessage() for r in caplog.records]
    assert "request type=IntentRequest intent=AMAZON.HelpIntent locale=en-GB " \
           f"user={short_id(USER_ID)}" in lines, lines


def test_default_memory_lives_under_xdg_state_home(monkeypatch, tmp_path):
    from skill.hosting.webservice import default_sqlite_path

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_sqlite_path() == str(tmp_path / "pins-and-needles" / "webservice.sqlite3")


# ------------------------------------------------------------------------------- fuzz

@functools.cache
def fuzz_apps():
    """Built once, as Hypothesis runs many examples: the baseline skill verifying and not
    verifying, and the real Pins & Needles skill (with a throw-away SQLite memory)."""
    import tempfile

    from skill.alexa.builder import build_skill
    from skill.hosting.sqlite_persistence import SQLitePersistenceAdapter

    db = os.path.join(tempfile.mkdtemp(prefix="pins-fuzz-"), "memory.sqlite3")
    real = build_skill(persistence_adapter=SQLitePersistenceAdapter(db), skill_id="")
    off = {"ASK_SDK_VERIFY_SIGNATURE": False, "ASK_SDK_VERIFY_TIMESTAMP": False}
    return (make_app().test_client(), make_app(off).test_client(),
            make_app(off, skill=real).test_client())


header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF,
                                    blacklist_characters="\x7f"), max_size=200)
json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | \
    st.text(max_size=30)
json_value = st.recursive(json_leaf, lambda kids: st.lists(kids, max_size=4)
                          | st.dictionaries(st.text(max_size=12), kids, max_size=4),
                          max_leaves=20)
request_types = st.sampled_from(["LaunchRequest", "IntentRequest", "SessionEndedRequest",
                                 "CanFulfillIntentRequest", "Alexa.Presentation.APL.UserEvent",
                                 "AlexaSkillEvent.SkillEnabled", "Connections.Response",
                                 "Display.ElementSelected", "Unknown.Type"]) | st.text(max_size=20)


@st.composite
def envelopes(draw):
    """Mostly-valid envelopes with fuzzed members: reach deep into deserialisation."""
    env = certs.envelope(draw(request_types))
    containers = [env, env["request"], env["session"], env["context"],
                  env["context"]["System"]]
    for _ in range(draw(st.integers(0, 4))):
        where = draw(st.sampled_from(containers))
        key = draw(st.sampled_from(["intent", "timestamp", "locale", "user", "application",
                                    "attributes", "new", "System", "dialogState", "reason",
                                    "error", "token", "arguments", "type", "version",
                                    "session", "context", "request", "slots"])
                   | st.text(max_size=10))
        where[key] = draw(json_value)
    if draw(st.booleans()):
        containers[1]["intent"] = {"name": draw(st.text(max_size=30)),
                                    "slots": draw(json_value)}
    return env


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=2048) | json_value.map(lambda v: json.dumps(v).encode()),
       headers=st.dictionaries(st.sampled_from(["SignatureCertChainUrl", "Signature-256",
                                                "Content-Type", "Content-Encoding",
                                                "Transfer-Encoding", "X-Other"]),
                               header_text | st.sampled_from([CHAIN_URL]), max_size=4))
def test_fuzz_random_bodies_and_headers_never_500(body, headers):
    for client in fuzz_apps():
        resp = client.post("/", data=body, headers=headers)
        assert resp.status_code in ALLOWED_STATUSES, resp.get_data()
        json.loads(resp.get_data())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(env=envelopes())
def test_fuzz_signed_envelopes_never_500(env):
    """Signed with the trusted test key, so fuzzed envelopes get past verification."""
    body = certs.body_of(env)
    for client in fuzz_apps():
        resp = client.post("/", data=body, headers=default_pki().headers(body))
        assert resp.status_code in {200, 400}, resp.get_data()
        data = json.loads(resp.get_data())
        if resp.status_code == 200:
            assert data["version"] == "1.0" and isinstance(data["response"], dict)
