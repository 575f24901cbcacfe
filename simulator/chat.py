"""`python -m skill chat`: talk to the skill by typing, through the same entry Alexa calls.

Why it goes through `lambda_handler` with real envelopes rather than calling the dialog
code: what you see here is what a device gets, including session attributes, the end of a
session, persistence across sessions and entity resolution. What you type is resolved by
the simulator's NLU (`nlu.py`), built from the generated interaction model, so a phrase
that works here is one the interaction model actually contains. The handler is
`lambda/lambda_function.lambda_handler`, imported from this checkout as Lambda imports it.

What it does with a line:
- no session open: "open leg numbness guide" (or "launch", "start", just the name...) sends
  a LaunchRequest; "ask leg numbness guide <request>" or any other text starts a new session
  with that request (a one-shot), as if said after "Alexa, ask leg numbness guide";
- session open: the text is resolved to an intent; "exit" ends the session (Alexa then
  sends SessionEndedRequest); an empty line is silence: Alexa repeats the reprompt, and a
  second silence closes the session (EXCEEDED_MAX_REPROMPTS);
- `/intent Name slot=value ...` sends an exact intent (with a warning when the model has
  no such intent or slot: Alexa would never send it); `/launch`, `/new`, `/forget`, `/help`,
  `/quit`. Ctrl-D and Ctrl-C quit: an open session is closed with a SessionEndedRequest
  (USER_INITIATED), as when a user walks away from a device, and no traceback is shown.

Output: what Alexa would say (SSML stripped), the card, the text an APL screen shows
(`--screen`, see `screen.py`), the intent the words resolved to, and whether the session
stays open. Piped input (one utterance per line) echoes each line after "you> " and prints
no banner, so the output is a readable, deterministic transcript. `--trace FILE` appends
every request and response envelope to FILE as JSON lines.

Memory across sessions belongs to the checkout: a SQLite file, `.simulator/memory.sqlite3`
beside `skill/` (git-ignored; `--db` picks another), so a fresh clone starts with the
first-time welcome and its disclaimer. `/forget` or `--forget` erases it. The same user id
is used throughout, so "welcome back" and a resumed stretch routine work as on a device.
DynamoDB (`SKILL_TABLE`) is never used here.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from skill.dialog import ssml
from simulator import nlu, screen
from simulator.envelopes import Envelopes

CHECKOUT = Path(__file__).resolve().parents[1]

LOCALES = ("en-US", "en-CA", "en-GB", "en-AU", "en-IN")
CHAT_USER_ID = "amzn1.ask.account.LOCAL-CHAT-USER"
# espeak-ng has no Canadian, Australian or Indian English voice; these are the nearest.
ESPEAK_VOICES = {"en-US": "en-us", "en-CA": "en-us", "en-GB": "en-gb", "en-AU": "en-gb",
                 "en-IN": "en-gb"}
HELP = """Type what you would say to Alexa, one utterance per line.
  open leg numbness guide          start a session (LaunchRequest)
  ask leg numbness guide <request> start a session with a request (one-shot)
  <anything>                       in a session: resolved to an intent and sent
  (empty line)                     silence: Alexa repeats the reprompt; twice ends the session
  exit                             end the session (SessionEndedRequest)
  /intent Name [slot=value ...]    send an exact intent (/intent alone lists them)
  /permission accepted|denied|unanswered   answer the skill's reminders permission request
  /launch                          open the skill (LaunchRequest)
  /new                             end the session; the next line starts a new one
  /forget                          erase the skill's memory of you (first-time welcome)
  /help  /quit                     (Ctrl-D or Ctrl-C also quit)"""

Handler = Callable[[dict, Any], dict]


class LambdaContext:
    """Just enough of the AWS Lambda context object for code that logs or reads it."""

    function_name = "pins-and-needles-local"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    aws_request_id = "local"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 8000


def default_db_path() -> Path:
    """Where the chat keeps long-term memory: in this checkout, so each clone has its own."""
    return CHECKOUT / ".simulator" / "memory.sqlite3"


def forget(db_path: str | os.PathLike, user_id: str) -> bool:
    """Erase what the skill remembers of `user_id`; True when it remembered something.

    Through the skill's own SQLite adapter (a row delete, not a file delete), so a running
    skill that holds the file open sees the change at once.
    """
    if not os.path.exists(db_path):
        return False
    from ask_sdk_model import Context, RequestEnvelope
    from ask_sdk_model.interfaces.system import SystemState
    from ask_sdk_model.user import User

    from skill.hosting.sqlite_persistence import SQLitePersistenceAdapter

    store = SQLitePersistenceAdapter(os.fspath(db_path))
    envelope = RequestEnvelope(context=Context(system=SystemState(user=User(user_id=user_id))))
    try:
        remembered = bool(store.get_attributes(envelope))
        store.delete_attributes(envelope)
    finally:
        store.close()
    return remembered


def load_lambda_handler(db_path: str | os.PathLike) -> Handler:
    """`lambda/lambda_function.lambda_handler`, set up for local memory before its import.

    The Lambda entry reads its store from the environment when it is imported, so the
    environment is set first; `SKILL_TABLE` is dropped so that chatting never writes to a
    real DynamoDB table.
    """
    os.environ.pop("SKILL_TABLE", None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # request logs would drown the conversation
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    os.environ["SKILL_SQLITE_PATH"] = str(db_path)
    lambda_dir = str(CHECKOUT / "lambda")
    if lambda_dir not in sys.path:
        sys.path.insert(0, lambda_dir)
    return importlib.import_module("lambda_function").lambda_handler


class Speaker:
    """Reads answers aloud with espeak-ng (which understands SSML breaks) when installed."""

    def __init__(self, locale: str, enabled: bool, err: IO[str]):
        self.voice = ESPEAK_VOICES.get(locale, "en")
        self.program = shutil.which("espeak-ng") if enabled else None
        if enabled and not self.program:
            print("(--speak: espeak-ng is not installed, so answers are only printed; "
                  "install it with: apt-get install espeak-ng)", file=err)

    def say(self, speech_ssml: str) -> None:
        if not self.program or not speech_ssml:
            return
        try:
            subprocess.run([self.program, "-m", "-v", self.voice, ssml.wrap(speech_ssml)],
                           check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=120)
        except (OSError, subprocess.SubprocessError):
            self.program = None  # a broken speaker must not end the conversation


class Chat:
    """One simulated device: a user, a locale, a session, and the skill behind it."""

    def __init__(self, handler: Handler, resolver: nlu.Resolver, envelopes: Envelopes,
                 out: IO[str], speaker: Speaker | None = None, *,
                 trace: IO[str] | None = None, forget: Callable[[], bool] | None = None):
        self.handler = handler
        self.resolver = resolver
        self.alexa = envelopes
        self.out = out
        self.speaker = speaker
        self.trace = trace
        self.forget = forget
        self.reprompt: str | None = None
        self.silences = 0

    # -- what the user does

    def hear(self, line: str) -> bool:
        """Handle one typed line; False when the user asked to quit."""
        text = line.strip()
        if text.startswith("/"):
            return self._command(text)
        if not text:
            self._silence()
            return True
        self.silences = 0
        if nlu.normalize(text) in language_exit_phrases():
            if self.alexa.session_open:
                self._end_session("USER_INITIATED")
                return True
            return False  # nothing to exit: "exit" with no session leaves the chat
        in_session = self.alexa.session_open
        invoked, rest = self.resolver.split_invocation(text, in_session=in_session)
        if invoked or not in_session:
            self.alexa.new_session()
            self._say("--- new session ---")
            if invoked and not rest:
                self._say("  -> LaunchRequest")
                self._send(self.alexa.launch())
                return True
            text = rest if invoked else text
        resolution = self.resolver.resolve(text)
        self._say("  -> " + describe(resolution))
        self._send(self.alexa.intent(resolution.intent,
                                     nlu.request_slots(resolution, self.alexa.application_id)))
        return True

    def leave(self) -> None:
        """The user walked away: close an open session the way a device would."""
        if self.alexa.session_open:
            self._end_session("USER_INITIATED")

    # -- internals

    def _silence(self) -> None:
        if not self.alexa.session_open:
            return
        self.silences += 1
        if self.silences == 1 and self.reprompt:
            self._say(f"alexa (reprompt)> {ssml.to_plain_text(self.reprompt)}")
            if self.speaker:
                self.speaker.say(self.reprompt)
            return
        self.silences = 0
        self._end_session("EXCEEDED_MAX_REPROMPTS")

    def _end_session(self, reason: str) -> None:
        self._say(f"  -> SessionEndedRequest ({reason})")
        self._send(self.alexa.session_ended(reason), expect_reply=False)

    def _command(self, text: str) -> bool:
        try:
            words = shlex.split(text)
        except ValueError as error:
            self._say(f"  (could not read that command: {error})")
            return True
        command, args = words[0].lower(), words[1:]
        if command in ("/quit", "/exit", "/q"):
            return False
        if command == "/help":
            self._say(HELP)
        elif command == "/new":
            self.leave()
            self.alexa.new_session()
            self._say("--- new session ---")
        elif command == "/launch":
            self.alexa.new_session()
            self._say("--- new session ---")
            self._say("  -> LaunchRequest")
            self._send(self.alexa.launch())
        elif command == "/forget":
            self.leave()
            erased = self.forget() if self.forget else False
            self._say("  (memory erased: the next session starts as for a new user)" if erased
                      else "  (nothing to forget: no memory yet)")
        elif command == "/permission" and args:  # Alexa's answer to "AskFor" (reminders)
            status = {"accepted": "ACCEPTED", "denied": "DENIED"}.get(args[0].lower(),
                                                                      "NOT_ANSWERED")
            self.alexa.reminders_granted = self.alexa.reminders_granted or status == "ACCEPTED"
            self._say(f"  -> Connections.Response AskFor {status}")
            self._send(self.alexa.connections_response("AskFor", {
                "permissionScope": "alexa::alerts:reminders:skill:readwrite", "status": status}))
        elif command == "/intent" and not args:
            self._say("  intents in the model: " + ", ".join(sorted(self.resolver.intents)))
        elif command == "/intent":
            values = dict(arg.split("=", 1) for arg in args[1:] if "=" in arg)
            for warning in self._unknown(args[0], values):
                self._say(f"  (warning: {warning})")
            resolution = self.resolver.resolution_for(args[0], values)
            if not self.alexa.session_open:
                self.alexa.new_session()
                self._say("--- new session ---")
            self._say("  -> " + describe(resolution))
            self._send(self.alexa.intent(
                resolution.intent, nlu.request_slots(resolution, self.alexa.application_id)))
        else:
            self._say("  (unknown command; /help lists them)")
        return True

    def _unknown(self, intent: str, values: dict[str, str]) -> list[str]:
        """What in an `/intent` command the model does not declare (Alexa never sends it)."""
        intents = self.resolver.intents
        if intent not in intents:
            by_lower = {name.lower(): name for name in intents}
            close = [by_lower[key] for key in (intent.lower(), f"amazon.{intent.lower()}")
                     if key in by_lower] or difflib.get_close_matches(intent, list(intents),
                                                                      n=1, cutoff=0.8)
            hint = f"; did you mean {close[0]}?" if close else "; /intent alone lists them"
            return [f"the {self.alexa.locale} model has no intent {intent!r}, so Alexa would "
                    f"never send it; sending it anyway{hint}"]
        declared = intents[intent]
        return [f"{intent} has no slot {name!r} (it has: {', '.join(declared) or 'none'}); "
                "sending it anyway" for name in values if name not in declared]

    def _send(self, event: dict, *, expect_reply: bool = True) -> None:
        try:
            response = self.handler(event, LambdaContext())
        except Exception as error:  # show it, keep chatting: this is a debugging tool
            self._trace(event, None)
            self._say(f"  [skill error: {type(error).__name__}: {error}]")
            self.alexa.carry({})
            self.reprompt = None
            self._say("  [session ended]")
            return
        self._trace(event, response)
        if not expect_reply:  # SessionEndedRequest: Alexa ignores any answer
            self.reprompt = None
            self._say("  [session ended]")
            return
        self.alexa.carry(response)
        self._show(response or {})

    def _show(self, response: dict) -> None:
        body = response.get("response") or {}
        speech = (body.get("outputSpeech") or {})
        spoken = speech.get("ssml") or speech.get("text") or ""
        self._say(f"alexa> {ssml.to_plain_text(spoken)}" if spoken else "alexa> (says nothing)")
        card = body.get("card") or {}
        if card:
            title = card.get("title") or ""
            content = card.get("content") or card.get("text") or ""
            lines = content.splitlines() or [""]
            self._say(f"  card: {title}" + (f" | {lines[0]}" if lines[0] else ""))
            for extra in lines[1:]:
                self._say(f"        {extra}".rstrip())
        for directive in body.get("directives") or []:
            kind = directive.get("type", "?")
            if kind == screen.RENDER_DOCUMENT:
                lines = screen.screen_lines(directive) or ["(no text)"]
                self._say(f"  screen: {lines[0]}")
                for extra in lines[1:]:
                    self._say(f"          {extra}")
            else:
                self._say(f"  directive: {kind}")
        reprompt = ((body.get("reprompt") or {}).get("outputSpeech") or {})
        self.reprompt = reprompt.get("ssml") or reprompt.get("text")
        self.silences = 0
        self._say("  [session open]" if self.alexa.session_open else "  [session ended]")
        if self.speaker and spoken:
            self.speaker.say(spoken)

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _trace(self, request: dict, response: dict | None) -> None:
        if self.trace:
            self.trace.write(json.dumps({"request": request, "response": response}) + "\n")
            self.trace.flush()


def language_exit_phrases() -> frozenset[str]:
    """Phrases that end a skill session outright ("exit"), from alexa_language.json."""
    return frozenset(nlu.language()["session_exit_phrases"]["phrases"])


def describe(resolution: nlu.Resolution) -> str:
    """One line saying what the words resolved to, e.g. `TopicIntent topic="ms" -> ms_id`."""
    parts = [resolution.intent]
    for name, slot in resolution.slots.items():
        text = f'{name}="{slot["value"]}"'
        if "matches" in slot:
            text += f" -> {slot['resolved_id']}" if slot.get("resolved_id") else " (no match)"
        parts.append(text)
    return " ".join(parts)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m skill chat",
        description="Talk to the skill by typing; what you type is resolved with the "
                    "interaction model and sent to lambda_handler as a real Alexa request.")
    parser.add_argument("--locale", default="en-US", choices=LOCALES)
    parser.add_argument("--screen", action="store_true",
                        help="simulate a device with a screen (Alexa.Presentation.APL)")
    parser.add_argument("--speak", action="store_true",
                        help="read answers aloud with espeak-ng, when installed")
    parser.add_argument("--db", metavar="PATH",
                        help="SQLite file for memory across sessions (default: "
                             f"{_shown(default_db_path())}, this checkout's own)")
    parser.add_argument("--forget", action="store_true",
                        help="erase that memory first: start as a first-time user")
    parser.add_argument("--trace", metavar="FILE", type=argparse.FileType("a"),
                        help="append every request and response envelope to FILE (JSON lines)")
    parser.add_argument("--user", default=CHAT_USER_ID, metavar="USER_ID",
                        help="the simulated Alexa user id (memory is per user)")
    parser.add_argument("--grant-reminders", action="store_true",
                        help="pretend the reminders permission is granted")
    parser.add_argument("--api-endpoint", default=None, metavar="URL",
                        help="where the skill's Alexa API calls go (e.g. the loopback "
                             "stand-in: python tests/reminders_api.py)")
    return parser


def main(argv: list[str] | None = None, *, handler: Handler | None = None,
         stdin: IO[str] | None = None, stdout: IO[str] | None = None,
         model_dir: str | None = None) -> int:
    """Run the chat. `handler`, streams and `model_dir` are for tests; normally all default."""
    args = _parser().parse_args(argv)
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    db = Path(args.db) if args.db else default_db_path()
    if args.forget:
        forget(db, args.user)
    if handler is None:
        handler = load_lambda_handler(db)
    resolver = nlu.load_resolver(args.locale, model_dir)
    application_id = os.environ.get("SKILL_ID") or nlu.DEFAULT_SKILL_ID
    envelopes = Envelopes(locale=args.locale, user_id=args.user,
                          application_id=application_id, screen=args.screen,
                          reminders_granted=args.grant_reminders,
                          **({"api_endpoint": args.api_endpoint} if args.api_endpoint else {}))
    chat = Chat(handler, resolver, envelopes, out, Speaker(args.locale, args.speak, sys.stderr),
                trace=args.trace, forget=lambda: forget(db, args.user))
    interactive = stdin.isatty()
    if interactive:
        _enable_line_editing()
        print(f"Pins & Needles simulator ({args.locale}{', screen' if args.screen else ''}). "
              'Say "open leg numbness guide" to start; /help lists commands; '
              "Ctrl-D or Ctrl-C quits.\n"
              f"Memory: {_shown(db)} (/forget erases it).", file=out)
    try:
        while True:
            if interactive:
                try:
                    line = input("you> ")
                except EOFError:  # Ctrl-D
                    print(file=out)
                    break
            else:
                line = stdin.readline()
                if not line:
                    break
                line = line.rstrip("\n")
                print(f"you> {line}", file=out)
            if not chat.hear(line):
                break
    except KeyboardInterrupt:  # Ctrl-C: leave as cleanly as Ctrl-D
        print(file=out)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must wait
    try:
        chat.leave()
    finally:
        signal.signal(signal.SIGINT, previous)
    return 0


def _shown(path: Path) -> str:
    """A path as short as it can be said: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    except ValueError:  # another drive (Windows)
        return str(path)


def _enable_line_editing() -> None:
    try:
        import readline  # noqa: F401  (arrow keys and history for input())
    except ImportError:
        pass


if __name__ == "__main__":
    sys.exit(main())
