"""How well free-text questions are answered, on a blind question set (dev-only, not in CI).

Each line of a set (`tests/data/blind/set_a.jsonl`, `set_b.jsonl`) is
{"q", "best": [article sentences a clinician would read out], "section": heading,
 "answerable": bool}, written by people who never saw the passages, topics or model.

For every question the report reads what the skill actually *says* and counts:
- best sentence: one of `best` is in the spoken answer. The article's list items carry a
  label ("Foot Placement: Avoid crossing legs ...") that the passages leave out, so a best
  sentence also counts when the words after its label are spoken (`--strict` turns that off);
- right section: an article sentence under `section` is in the spoken answer;
- declined: the answer holds no article sentence at all (the unanswerable should be; the
  answerable ones that are, are false declines).

Routes (`--route`, several allowed):
- direct: `answers.answer_question` — the QuestionIntent dialog call, no NLU in front;
- handler: QuestionIntent through the real `lambda_handler` (safety and state first), no NLU;
- bm25: plain BM25 (SQLite FTS5, Porter) over the passage texts alone, top passage, never
  declines — the baseline the ranker has to beat;
- nlu: the simulator's NLU (`simulator.nlu`) routes the words to an intent, then the
  real `lambda_handler` answers;
- semantic: `semantic_nlu.py` (sentence-embedding stand-in for Alexa) routes, then the real
  `lambda_handler` answers (needs `--semantic-python`, e.g. /tmp/semnlu-venv/bin/python).

Run it from any checkout (it imports `skill` from the interpreter's environment), e.g. the
old code: `cd /work/wt/base && .venv/bin/python /path/to/tools/answers_report.py set.jsonl`.
`--misses` lists what went wrong (only ever on the tuning set).

`--unanswered LOG` reads the skill's own logs instead (CloudWatch export, journal, a file
of `make serve` output) and tallies the questions that got no good answer, most asked
first, with why (`not_covered:<family>` or `weak`) and how many distinct users asked.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]  # the simulator lives beside the package, in the checkout
DEFAULT_SETS = [ROOT / "tests/data/blind/set_a.jsonl", ROOT / "tests/data/blind/set_b.jsonl"]
SEMANTIC_NLU = Path("/work/shared/tools/semantic_nlu.py")
_LABEL = re.compile(r"^[A-Z][\w'’ -]{0,40}: ")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][’\"”])\s+")


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _norm(text: str) -> str:
    return " ".join(text.replace("’", "'").split())


def core(sentence: str) -> str:
    """A list item's words without its label ("Foot Placement: Avoid ..." -> "Avoid ...")."""
    return _LABEL.sub("", sentence)


@dataclass
class Article:
    """The article's sentences, each with the heading it sits under."""

    sentences: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> "Article":
        article = cls()
        heading = ""
        for line in text.splitlines()[1:]:
            line = line.strip()
            if not line:
                continue
            if not line.endswith((".", "?", "!", ":")) and len(line.split()) <= 10:
                heading = line
                continue
            for sentence in _SENTENCE_END.split(line.lstrip("- ")):
                article.sentences.append((heading, _norm(sentence.strip('"“”'))))
        return article

    def sections_in(self, spoken: str) -> set[str]:
        spoken = _norm(spoken)
        return {heading for heading, sentence in self.sentences
                if len(core(sentence)) > 20 and core(sentence) in spoken}


def best_spoken(row: dict, spoken: str, strict: bool) -> bool:
    spoken = _norm(spoken)
    return any(_norm(b) in spoken or (not strict and _norm(core(b)) in spoken)
               for b in row["best"])


# ------------------------------------------------------------------------------- routes

def route_direct(questions: list[str]) -> list[str]:
    from skill.dialog import answers, ssml
    from skill.dialog.state import SessionState

    spoken = []
    for q in questions:
        reply = answers.answer_question(SessionState(), q)
        spoken.append(ssml.to_plain_text(reply.speech))
    return spoken


def route_bm25(questions: list[str]) -> list[str]:
    import sqlite3

    from skill.content.catalogue import catalogue

    passages = catalogue().passages
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE p USING fts5(body, tokenize='porter unicode61')")
    db.executemany("INSERT INTO p(rowid, body) VALUES (?, ?)",
                   [(i, p.text) for i, p in enumerate(passages)])
    spoken = []
    for q in questions:
        words = re.findall(r"[a-z0-9]+", q.lower())
        row = db.execute("SELECT rowid FROM p WHERE p MATCH ? ORDER BY bm25(p) LIMIT 1",
                         (" OR ".join(f'"{w}"' for w in words),)).fetchone() if words else None
        spoken.append(passages[row[0]].text if row else "")
    return spoken


def _lambda_speech(events: list[dict]) -> list[str]:
    from skill.dialog import ssml
    from simulator.chat import LambdaContext, load_lambda_handler

    handler = load_lambda_handler(Path(tempfile.mkdtemp()) / "report.sqlite3")
    spoken = []
    for event in events:
        response = handler(event, LambdaContext()) or {}
        speech = ((response.get("response") or {}).get("outputSpeech") or {}).get("ssml", "")
        spoken.append(ssml.to_plain_text(speech))
    return spoken


def route_handler(questions: list[str]) -> list[str]:
    """QuestionIntent with the words as its slot, through the real `lambda_handler`: the
    whole skill (safety first, state reinterpretation, ranking) with no NLU in front."""
    from simulator.envelopes import Envelopes

    events = []
    for q in questions:
        alexa = Envelopes()
        alexa.new_session()
        events.append(alexa.intent("QuestionIntent", {"query": q}))
    return _lambda_speech(events)


def route_nlu(questions: list[str], intents: list[str]) -> list[str]:
    from simulator import nlu
    from simulator.envelopes import Envelopes

    resolver = nlu.load_resolver("en-US")
    events = []
    for q in questions:
        resolution = resolver.resolve(q)
        intents.append(resolution.intent)
        alexa = Envelopes()
        alexa.new_session()
        events.append(alexa.intent(resolution.intent,
                                   nlu.request_slots(resolution, alexa.application_id)))
    return _lambda_speech(events)


def route_semantic(questions: list[str], intents: list[str], python: str) -> list[str]:
    from simulator.envelopes import Envelopes

    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as batch:
        for q in questions:
            batch.write(json.dumps({"text": q}) + "\n")
    result = subprocess.run(
        [python, str(SEMANTIC_NLU), "--model", str(ROOT / "skill-package/interactionModels/custom/en-US.json"),
         "--file", batch.name], capture_output=True, text=True, check=True)
    os.unlink(batch.name)
    events = []
    for line in result.stdout.splitlines():
        resolved = json.loads(line)
        intents.append(resolved["intent"])
        slots = {}
        for name, slot in resolved.get("slots", {}).items():
            slots[name] = {"value": slot["value"]}
            if slot.get("id"):
                slots[name]["resolutions"] = {"resolutionsPerAuthority": [{
                    "authority": "amzn1.er-authority.echo-sdk.report",
                    "status": {"code": "ER_SUCCESS_MATCH"},
                    "values": [{"value": {"name": slot["resolved"], "id": slot["id"]}}]}]}
        alexa = Envelopes()
        alexa.new_session()
        events.append(alexa.intent(resolved["intent"], slots))
    return _lambda_speech(events)


# ------------------------------------------------------------------------------- scoring

def score(rows: list[dict], spoken: list[str], article: Article, strict: bool) -> dict:
    answerable = [(r, s) for r, s in zip(rows, spoken) if r["answerable"]]
    unanswerable = [(r, s) for r, s in zip(rows, spoken) if not r["answerable"]]
    return {
        "answerable": len(answerable),
        "best": sum(best_spoken(r, s, strict) for r, s in answerable),
        "section": sum(r["section"] in article.sections_in(s) for r, s in answerable),
        "false_declines": sum(not article.sections_in(s) for r, s in answerable),
        "unanswerable": len(unanswerable),
        "declined": sum(not article.sections_in(s) for r, s in unanswerable),
    }


def unanswered(lines: list[str]) -> list[tuple[int, int, str, str]]:
    """(times asked, distinct users, reason, question) from `unanswered {json}` log lines."""
    tally: dict[tuple[str, str], tuple[int, set[str]]] = {}
    for line in lines:
        _, marker, payload = line.partition("unanswered {")
        if not marker:
            continue
        try:
            entry = json.loads("{" + payload)
        except json.JSONDecodeError:
            continue
        key = (" ".join(str(entry.get("question", "")).lower().split()), str(entry.get("reason")))
        count, users = tally.get(key, (0, set()))
        users.add(str(entry.get("user", "-")))
        tally[key] = (count + 1, users)
    return sorted(((count, len(users), reason, question)
                   for (question, reason), (count, users) in tally.items()), reverse=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="*", type=Path, default=DEFAULT_SETS)
    parser.add_argument("--route", action="append", choices=["direct", "handler", "bm25", "nlu", "semantic"])
    parser.add_argument("--semantic-python", default="/tmp/semnlu-venv/bin/python")
    parser.add_argument("--strict", action="store_true", help="best sentence only with its label")
    parser.add_argument("--misses", action="store_true", help="list misses (tuning set only!)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--unanswered", type=Path, metavar="LOG",
                        help="tally the unanswered questions in a log file instead")
    args = parser.parse_args(argv)
    if args.unanswered:
        print("asked  users  reason                     question")
        for count, users, reason, question in unanswered(
                args.unanswered.read_text(encoding="utf-8", errors="replace").splitlines()):
            print(f"{count:5}  {users:5}  {reason:26} {question}")
        return 0
    routes = args.route or ["direct", "bm25"]

    from skill.content import article_text

    article = Article.parse(article_text())
    results = {}
    for path in args.sets:
        rows = load(path)
        questions = [r["q"] for r in rows]
        for route in routes:
            intents: list[str] = []
            if route == "direct":
                spoken = route_direct(questions)
            elif route == "handler":
                spoken = route_handler(questions)
            elif route == "bm25":
                spoken = route_bm25(questions)
            elif route == "nlu":
                spoken = route_nlu(questions, intents)
            else:
                spoken = route_semantic(questions, intents, args.semantic_python)
            figures = score(rows, spoken, article, args.strict)
            if intents:
                figures["to_question_or_topic"] = sum(
                    i in ("QuestionIntent", "TopicIntent") for i, r in zip(intents, rows)
                    if r["answerable"])
            results[f"{path.name}:{route}"] = figures
            if not args.json:
                f = figures
                extra = (f", QuestionIntent/TopicIntent {f['to_question_or_topic']}/{f['answerable']}"
                         if intents else "")
                print(f"{path.name:14} {route:8} best {f['best']}/{f['answerable']}  "
                      f"section {f['section']}/{f['answerable']}  "
                      f"declined {f['declined']}/{f['unanswerable']}  "
                      f"false declines {f['false_declines']}{extra}")
            if args.misses:
                for i, (r, s) in enumerate(zip(rows, spoken)):
                    ok = (best_spoken(r, s, args.strict) if r["answerable"]
                          else not article.sections_in(s))
                    if not ok:
                        via = f" [{intents[i]}]" if intents else ""
                        print(f"  MISS{via} {r['q']!r}\n    want: {(r['best'] or ['(decline)'])[0][:90]}"
                              f"\n    said: {s[:140]}")
    if args.json:
        json.dump(results, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
