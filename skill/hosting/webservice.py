"""Serve the skill to Alexa over HTTP: POST / for requests, GET /healthz for probes.

Why our own adapter rather than flask-ask-sdk's SkillAdapter: flask-ask-sdk cannot be
imported on current OpenSSL (see `skill.hosting.verification`). This module keeps its
contract -- the same config keys (ASK_SDK_VERIFY_SIGNATURE, ASK_SDK_VERIFY_TIMESTAMP),
the same serializer round trip (`skill.serializer` -> RequestEnvelope -> `skill.invoke`),
400 "Incoming request failed verification" on a failed check -- and adds what a public
endpoint needs: a body cap (413), a clear 4xx for every malformed input, JSON errors, and
no 500 with a traceback, whatever arrives.

Order of work for POST /, cheapest rejection first:
1. body size (Flask's MAX_CONTENT_LENGTH -> 413);
2. UTF-8 JSON object with `version` and a `request` carrying a string `type` (-> 400);
3. verifiers: signature, timestamp, application id, then any extra ones (-> 400);
4. a request type the SDK model does not know -> 200 with an empty response, so Alexa
   adding new event types never breaks the skill;
5. deserialise (an envelope with members the SDK model does not know is read without
   them; if it still cannot be read, its slot values are triaged raw, so a red flag is
   answered whatever else is wrong), invoke, serialise. A skill exception becomes a spoken apology (200),
   logged with its traceback on our side only.

Configuration comes from environment variables (safe defaults: verification ON), then
from the `config` mapping given to `create_app`; see `DEFAULTS`.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

# The skill's own request-log tag (sha256, 12 hex), so web and skill log lines correlate.
from skill.alexa.interceptors import short_user as short_id
from skill.hosting import raw_envelope
from skill.hosting.verification import (
    AbstractVerifier,
    ApplicationIdVerifier,
    HttpChainFetcher,
    RequestVerifier,
    TimestampVerifier,
    VerificationException,
)

log = logging.getLogger(__name__)

#: Every config key, its default, and how an environment string is read.
#: ALEXA_TRUST_BUNDLE / ALEXA_CERT_CHAIN_ORIGIN exist for tests and load runs: they make
#: the service trust a throw-away CA and fetch chains from a loopback server.
DEFAULTS: dict[str, Any] = {
    "ASK_SDK_VERIFY_SIGNATURE": True,
    "ASK_SDK_VERIFY_TIMESTAMP": True,
    "SKILL_ID": None,
    "ALEXA_TRUST_BUNDLE": None,
    "ALEXA_CERT_CHAIN_ORIGIN": None,
    "ALEXA_CERT_FETCH_TIMEOUT": 5.0,
    "ALEXA_CERT_CACHE_SIZE": 8,
    "ALEXA_CERT_CACHE_TTL": 3600.0,
    "MAX_CONTENT_LENGTH": 256 * 1024,
}
ENV_KEYS = tuple(k for k in DEFAULTS if k != "MAX_CONTENT_LENGTH")

EXTENSION_NAME = "pins_and_needles"
FAILED_VERIFICATION = "Incoming request failed verification"
EMPTY_RESPONSE = {"version": "1.0", "response": {}}
APOLOGY_RESPONSE = {
    "version": "1.0",
    "response": {
        "outputSpeech": {"type": "SSML",
                         "ssml": "<speak>Sorry, something went wrong on my side. "
                                 "Please try again in a moment.</speak>"},
        "shouldEndSession": True,
    },
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _parse_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{key} must be true/false, got {value!r}")


def _coerce(key: str, value: Any) -> Any:
    default = DEFAULTS[key]
    if isinstance(default, bool):
        return _parse_bool(key, value)
    if default is None:  # optional text: empty means unset
        text = "" if value is None else str(value).strip()
        return text or None
    if value is None:
        return default
    try:
        number = int(value) if isinstance(default, int) else float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a number, got {value!r}") from None
    if number <= 0:
        raise ValueError(f"{key} must be positive, got {value!r}")
    return number


def load_config(config: Mapping[str, Any] | None = None,
                environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults, overridden by environment variables, overridden by `config`.

    A malformed value fails loudly at start-up rather than silently weakening security
    (ASK_SDK_VERIFY_SIGNATURE=flase must not mean "off").
    """
    environ = os.environ if environ is None else environ
    merged = dict(DEFAULTS)
    for key in ENV_KEYS:
        if key in environ:
            merged[key] = _coerce(key, environ[key])
    for key, value in (config or {}).items():
        merged[key] = _coerce(key, value) if key in DEFAULTS else value
    return merged


def _kv(**fields: Any) -> str:
    """key=value log text; values with spaces or quotes are JSON-quoted."""
    parts = []
    for key, value in fields.items():
        text = "-" if value is None else str(value)
        if not text or any(c in text for c in ' "=\n\r\t'):
            text = json.dumps(text)
        parts.append(f"{key}={text}")
    return " ".join(parts)


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, separators=(",", ":")), status=status,
                    mimetype="application/json")


def _read_body(limit: int) -> bytes:
    """The raw body, at most `limit` bytes, else 413.

    With a Content-Length, werkzeug enforces MAX_CONTENT_LENGTH itself. A chunked body has
    none, and werkzeug then silently *truncates* at the limit -- which would turn an
    oversized request into a confusing 400 -- so read it here and say 413.
    """
    if request.content_length is not None or not request.environ.get("wsgi.input_terminated"):
        return request.get_data(cache=False)
    stream = request.environ["wsgi.input"]
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(min(65536, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise RequestEntityTooLarge()
    return b"".join(chunks)


def _envelope_user(envelope: Mapping[str, Any]) -> Any:
    ctx = envelope.get("context")
    system = ctx.get("System") if isinstance(ctx, Mapping) else None
    user = system.get("user") if isinstance(system, Mapping) else None
    if not isinstance(user, Mapping):
        session = envelope.get("session")
        user = session.get("user") if isinstance(session, Mapping) else None
    return user.get("userId") if isinstance(user, Mapping) else None


def _short_text(holder: Any, key: str) -> str | None:
    """`holder[key]` when it is a string (cut to 80 characters), else None: a log field
    from a raw envelope, which may be tampered with."""
    value = holder.get(key) if isinstance(holder, Mapping) else None
    return value[:80] if isinstance(value, str) else None


def _known_request_types() -> frozenset[str]:
    from ask_sdk_model.request import Request

    return frozenset(Request.discriminator_value_class_map)


def default_sqlite_path() -> str:
    """Where the web service keeps long-term memory unless SKILL_SQLITE_PATH/SKILL_TABLE say
    otherwise: $XDG_STATE_HOME (or ~/.local/state)/pins-and-needles/webservice.sqlite3.
    State, not cache: it is the users' memory (disclaimer heard, stretch position)."""
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"),
                                                             ".local", "state")
    return os.path.join(state, "pins-and-needles", "webservice.sqlite3")


def _default_persistence_adapter():
    """The web service's memory: DynamoDB if SKILL_TABLE is set, else a SQLite file."""
    try:
        from skill.hosting.persistence import make_persistence_adapter
    except ImportError:
        log.warning(_kv(event="no_persistence", reason="skill.hosting.persistence missing"))
        return None
    return make_persistence_adapter(os.environ, default_sqlite_path())


def _default_skill(cfg: Mapping[str, Any]):
    from skill.alexa.builder import build_skill

    # request_log=False: this service logs every request itself, in one line with the same
    # fields (type, intent, locale, user); a second line per request was pure cost.
    return build_skill(persistence_adapter=_default_persistence_adapter(),
                       skill_id=cfg.get("SKILL_ID"), request_log=False)


def build_verifiers(cfg: Mapping[str, Any], *,
                    request_verifier: AbstractVerifier | None = None,
                    timestamp_verifier: AbstractVerifier | None = None,
                    verifiers: Sequence[AbstractVerifier] | None = None
                    ) -> list[AbstractVerifier]:
    """The checks every request goes through, in order, as configured."""
    chain: list[AbstractVerifier] = []
    if cfg["ASK_SDK_VERIFY_SIGNATURE"]:
        chain.append(request_verifier or RequestVerifier(
            trust_bundle=cfg.get("ALEXA_TRUST_BUNDLE"),
            fetcher=HttpChainFetcher(timeout=cfg["ALEXA_CERT_FETCH_TIMEOUT"],
                                     origin=cfg.get("ALEXA_CERT_CHAIN_ORIGIN")),
            cache_size=cfg["ALEXA_CERT_CACHE_SIZE"],
            cache_ttl=cfg["ALEXA_CERT_CACHE_TTL"]))
    else:
        log.warning(_kv(event="verification_disabled", check="signature",
                        note="only for local testing; Alexa certification requires it"))
    if cfg["ASK_SDK_VERIFY_TIMESTAMP"]:
        chain.append(timestamp_verifier or TimestampVerifier())
    else:
        log.warning(_kv(event="verification_disabled", check="timestamp"))
    if cfg.get("SKILL_ID"):
        chain.append(ApplicationIdVerifier(cfg["SKILL_ID"]))
    chain.extend(verifiers or ())
    return chain


def create_app(skill: Any = None, config: Mapping[str, Any] | None = None, *,
               request_verifier: AbstractVerifier | None = None,
               timestamp_verifier: AbstractVerifier | None = None,
               verifiers: Sequence[AbstractVerifier] | None = None) -> Flask:
    """Build the Flask app that serves `skill` (default: the Pins & Needles skill).

    - `skill`: an ask-sdk-core CustomSkill (anything with `.invoke` and `.serializer`).
    - `config`: overrides for `DEFAULTS` (after environment variables).
    - `request_verifier` / `timestamp_verifier`: replace the built-in signature and
      timestamp checks (tests inject a RequestVerifier with a test trust store and chain
      fetcher); they are used only when the matching ASK_SDK_VERIFY_* key is on.
    - `verifiers`: extra checks run after the built-in ones, as in flask-ask-sdk.
    """
    cfg = load_config(config)
    app = Flask(__name__)
    app.config.update(cfg)
    if skill is None:
        skill = _default_skill(cfg)
    serializer = getattr(skill, "serializer", None)
    if serializer is None:
        from ask_sdk_core.serialize import DefaultSerializer

        serializer = DefaultSerializer()
    chain = build_verifiers(cfg, request_verifier=request_verifier,
                            timestamp_verifier=timestamp_verifier, verifiers=verifiers)
    known_types = _known_request_types()
    app.extensions[EXTENSION_NAME] = {"skill": skill, "verifiers": chain}

    def reject(status: int, error: str, reason: str, **fields: Any) -> Response:
        log.warning(_kv(event="alexa_request_rejected", status=status, reason=reason,
                        **fields))
        return _json({"error": error}, status)

    @app.post("/")
    def alexa() -> Response:
        started = time.perf_counter()
        body = _read_body(app.config["MAX_CONTENT_LENGTH"])
        try:
            text = body.decode("utf-8")
            envelope = json.loads(text)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return reject(400, "Request body is not UTF-8 JSON", "not_json")
        req = envelope.get("request") if isinstance(envelope, dict) else None
        rtype = req.get("type") if isinstance(req, dict) else None
        if (not isinstance(rtype, str) or not rtype
                or not isinstance(envelope.get("version"), str)):
            return reject(400, "Request body is not an Alexa request envelope",
                          "not_envelope")
        request_id = req.get("requestId")
        request_id = request_id[:100] if isinstance(request_id, str) else None
        user = short_id(_envelope_user(envelope))
        for verifier in chain:
            try:
                verifier.verify(request.headers, body, envelope)
            except VerificationException as exc:
                return reject(400, FAILED_VERIFICATION, str(exc), type=rtype[:80],
                              request_id=request_id, user=user,
                              verifier=type(verifier).__name__)
            except Exception as exc:  # a bug in a check must fail closed, not open or 500
                log.exception(_kv(event="verifier_error", verifier=type(verifier).__name__))
                return reject(400, FAILED_VERIFICATION, f"verifier error: {exc!r}"[:200],
                              type=rtype[:80], request_id=request_id, user=user)
        if rtype not in known_types:
            log.info(_kv(event="alexa_request", status=200, type=rtype[:80],
                         request_id=request_id, user=user, outcome="unknown_type_empty"))
            return _json(EMPTY_RESPONSE)
        request_envelope = raw_envelope.deserialize(serializer, envelope, text)
        if request_envelope is None or request_envelope.request is None:
            guidance = raw_envelope.red_flag_reply(envelope)
            if guidance is not None:  # unreadable to the SDK, but a red flag was heard
                return _json(guidance)
            return reject(400, "Request body is not an Alexa request envelope",
                          "deserialize", type=rtype, request_id=request_id, user=user)
        try:
            response_envelope = skill.invoke(request_envelope=request_envelope, context=None)
            payload = serializer.serialize(response_envelope)
            out = json.dumps(payload, separators=(",", ":"))
        except Exception:
            log.exception(_kv(event="skill_error", type=rtype, request_id=request_id,
                              user=user))
            return _json(APOLOGY_RESPONSE)
        log.info(_kv(event="alexa_request", status=200, type=rtype,
                     intent=_short_text(req.get("intent"), "name"),
                     locale=_short_text(req, "locale"), request_id=request_id, user=user,
                     ms=f"{(time.perf_counter() - started) * 1000:.1f}"))
        return Response(out, mimetype="application/json")

    @app.get("/healthz")
    def healthz() -> Response:
        return _json({"status": "ok",
                      "verify_signature": bool(cfg["ASK_SDK_VERIFY_SIGNATURE"]),
                      "verify_timestamp": bool(cfg["ASK_SDK_VERIFY_TIMESTAMP"])})

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        """Every HTTP error as short JSON (405 keeps its Allow header)."""
        response = exc.get_response()
        response.set_data(json.dumps({"error": exc.name}))
        response.mimetype = "application/json"
        if exc.code and exc.code >= 500:
            log.error(_kv(event="http_error", status=exc.code, path=request.path[:200]))
        elif exc.code != 404:
            log.warning(_kv(event="http_error", status=exc.code, path=request.path[:200]))
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        """Last line of defence: log the traceback here, show the caller none."""
        log.exception(_kv(event="unhandled_error", path=request.path[:200]))
        return _json({"error": "Internal Server Error"}, 500)

    return app
