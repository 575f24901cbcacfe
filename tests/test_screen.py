"""`--screen`: the text an APL document shows, read from any document and its data.

The documents here are small but shaped like real ones (a custom layout with parameters,
a data-bound Sequence, alexa-layouts components, conditional parts), so the simulator
keeps showing the right words whichever documents the skill sends. Every APL document the
skill ships is read here with every data field filled; test_chat.py reads the screens of
whole conversations through the real handler.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.screen import RENDER_DOCUMENT, screen_lines

ROOT = Path(__file__).resolve().parents[1]
RENDER = RENDER_DOCUMENT


def directive(items, datasources=None, **document) -> dict:
    return {"type": RENDER, "token": "t",
            "document": {"type": "APL", "version": "2023.2",
                         "mainTemplate": {"parameters": document.pop("parameters", ["payload"]),
                                          "items": items},
                         **document},
            "datasources": datasources or {}}


def test_text_bound_to_the_payload_data_source():
    shown = screen_lines(directive(
        [{"type": "Container", "items": [
            {"type": "Text", "text": "${payload.answer.heading}"},
            {"type": "Text", "text": "Step ${payload.step} of ${payload['total']}"},
            {"type": "Frame", "item": {"type": "Text", "text": "${payload.lines[1]}"}}]}],
        {"payload": {"answer": {"heading": "Why it happens"}, "step": 2, "total": 6,
                     "lines": ["zero", "one"]}}))
    assert shown == ["Why it happens", "Step 2 of 6", "one"]


def test_named_parameters_bind_their_own_data_source():
    shown = screen_lines(directive([{"type": "Text", "text": "${guidance.number}"}],
                                   {"guidance": {"number": "Call 911 now."}},
                                   parameters=["guidance"]))
    assert shown == ["Call 911 now."]


def test_a_custom_layout_gets_its_parameters_and_defaults():
    layouts = {"Heading": {"parameters": ["title", {"name": "note", "default": "General info"}],
                           "items": [{"type": "Container", "items": [
                               {"type": "Text", "text": "${title}"},
                               {"type": "Text", "text": "${note}"}]}]}}
    shown = screen_lines(directive([{"type": "Heading", "title": "${payload.title}"}],
                                   {"payload": {"title": "Sciatica"}}, layouts=layouts))
    assert shown == ["Sciatica", "General info"]


def test_a_sequence_repeats_its_item_for_each_data_element():
    shown = screen_lines(directive(
        [{"type": "Sequence", "data": "${payload.hints}",
          "items": [{"type": "Text", "text": "${index + 1}. ${data.say}"},
                    {"type": "Text", "text": "${data.say}"}]}],
        {"payload": {"hints": [{"say": "yes"}, {"say": "no"}]}}))
    assert shown == ["${index + 1}. yes", "yes", "${index + 1}. no", "no"]


def test_alexa_layouts_components_show_their_text_properties():
    shown = screen_lines(directive(
        [{"type": "AlexaHeadline", "primaryText": "${payload.flag}",
          "secondaryText": "Call ${payload.number}", "headerTitle": "Pins and Needles",
          "footerHintText": "Try \"Alexa, what next?\"", "backgroundColor": "red",
          "accessibilityLabel": "not shown"},
         {"type": "AlexaTextList", "listItems": "${payload.items}"},
         {"type": "AlexaButton", "buttonText": "Yes"}],
        {"payload": {"flag": "Emergency", "number": "999",
                     "items": [{"primaryText": "Face drooping"},
                               {"primaryText": "Trouble speaking"}]}},
        **{"import": [{"name": "alexa-layouts", "version": "1.7.0"}]}))
    assert shown == ["Emergency", "Call 999", "Pins and Needles", 'Try "Alexa, what next?"',
                     "Face drooping", "Trouble speaking", "Yes"]


@pytest.mark.parametrize("when, shown", [
    ("${payload.why}", ["always"]), ("${payload.hint}", ["always", "hint"]),
    (False, ["always"]), ("${false}", ["always"]),
    ("${viewport.shape == 'round'}", ["always", "hint"])])
def test_when_hides_a_component_only_when_it_is_known_to_be_false(when, shown):
    document = directive([{"type": "Text", "text": "always"},
                          {"type": "Text", "when": when, "text": "hint"}],
                         {"payload": {"why": "", "hint": "Say next"}})
    assert screen_lines(document) == shown


def test_styled_text_resources_and_empty_text():
    shown = screen_lines(directive(
        [{"type": "Text", "text": "<b>Call</b> 911&nbsp;now<br>then rest"},
         {"type": "Text", "text": "@disclaimer"},
         {"type": "Text", "text": "${payload.missing}"},
         {"type": "Text", "text": ""}],
        {"payload": {}},
        resources=[{"strings": {"disclaimer": "Not medical advice."}}]))
    assert shown == ["Call 911 now", "then rest", "Not medical advice."]


def test_a_linked_document_and_a_self_including_layout_do_not_break_the_chat():
    linked = {"type": RENDER, "document": {"type": "Link", "src": "doc://alexa/apl/x"}}
    assert screen_lines(linked) == ["(linked document doc://alexa/apl/x: not readable offline)"]
    loop = {"Loop": {"parameters": [], "items": [{"type": "Loop"}]}}
    assert screen_lines(directive([{"type": "Loop"}], layouts=loop)) == []


SHIPPED = sorted((ROOT / "skill").rglob("apl/*.json"))


def test_the_skill_ships_apl_documents():
    assert SHIPPED


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_document_shows_text_with_no_payload_binding_left(path):
    """With every data field present, only expressions beyond plain paths may remain."""
    document = json.loads(path.read_text("utf-8"))
    shown = screen_lines({"type": RENDER, "document": document,
                          "datasources": {"payload": _FilledData()}})
    assert shown, f"{path.name} shows no text"
    assert not any("${payload." in line for line in shown), shown


class _FilledData(dict):
    """A data source that has every field: each lookup answers with its own name."""

    def get(self, key, default=None):
        return f"<{key}>"
