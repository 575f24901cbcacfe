"""What a screen would show, as text: walk an APL RenderDocument and its data sources.

Why text: the simulator runs in a terminal, and what a developer needs to see is which
words reach the screen (the right passage, the step, the number to call), not the layout.
So this walks any APL document generically rather than knowing ours:

- components are visited in order through `items`/`item`/`firstItem`/`lastItem`, and a
  component with `data` is repeated once per element (with `data`, `index`, `length` bound);
- a type defined in the document's `layouts` is expanded with its parameters bound to the
  values the component passes (or their defaults); `bind` adds names to the scope;
- the text shown is the `text` property, and any property named like text
  (`primaryText`, `headerTitle`, `footerHintText`, `buttonText`...) of components this
  document does not define, such as the responsive components of `alexa-layouts`, with a
  list of such objects (`listItems`) read the same way;
- `${...}` is resolved when it is a plain path into the data (`payload.step.title`,
  `data.items[0]['name']`); `@name` is a string resource; anything else (arithmetic,
  functions, ternaries) is shown as written, so nothing is silently invented;
- `when` hides a component when it is `false` or a path to a false/empty value; other
  conditions (viewport tests) count as true;
- styled-text markup is dropped (`<br>` becomes a line break).
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

RENDER_DOCUMENT = "Alexa.Presentation.APL.RenderDocument"
_CHILD_KEYS = ("firstItem", "items", "item", "lastItem")
_TEXT_PROPERTY = re.compile(r"^(?:text|title|subtitle|label)$|[a-z](?:Text|Title|Subtitle)$")
_NOT_SHOWN = {"accessibilityLabel", "speech"}
_EXPRESSION = re.compile(r"\$\{([^{}]*)\}")
_PATH_START = re.compile(r"\s*([A-Za-z_]\w*)")
_PATH_PART = re.compile(r"""\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*(\d+)\s*\]|\[\s*(['"])(.*?)\3\s*\])""")
_TAG = re.compile(r"<[^<>]*>")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_UNRESOLVED = object()
MAX_DEPTH = 40  # a layout that includes itself must not hang the chat


def screen_lines(directive: dict) -> list[str]:
    """The lines of text a RenderDocument directive puts on the screen, in document order."""
    document = directive.get("document") or {}
    if document.get("type") == "Link":
        return [f"(linked document {document.get('src', '?')}: not readable offline)"]
    walker = _Walker(document)
    datasources = directive.get("datasources") or {}
    main = document.get("mainTemplate") or {}
    scope: dict[str, Any] = {}
    for parameter in main.get("parameters") or []:
        name = parameter if isinstance(parameter, str) else (parameter or {}).get("name")
        if name:
            # APL's old convention: a lone "payload" parameter is all the data sources.
            scope[name] = datasources if name == "payload" and name not in datasources \
                else datasources.get(name)
    walker.children(main, scope, 0)
    lines: list[str] = []
    for text in walker.texts:
        for line in text.splitlines():
            line = " ".join(line.split())
            if line and (not lines or lines[-1] != line):
                lines.append(line)
    return lines


class _Walker:
    def __init__(self, document: dict):
        self.layouts: dict = document.get("layouts") or {}
        self.strings: dict[str, str] = {}
        for block in document.get("resources") or []:
            if isinstance(block, dict) and "when" not in block:
                self.strings.update(block.get("strings") or {})
        self.texts: list[str] = []

    def children(self, component: dict, scope: dict, depth: int) -> None:
        for key in _CHILD_KEYS:
            value = component.get(key)
            templates = value if isinstance(value, list) else [value] if value else []
            data = self.value(component.get("data"), scope) if key in ("items", "item") else None
            if isinstance(data, list):
                for index, element in enumerate(data):
                    inner = {**scope, "data": element, "index": index, "length": len(data)}
                    for template in templates:
                        self.component(template, inner, depth + 1)
            else:
                for template in templates:
                    self.component(template, scope, depth + 1)

    def component(self, component: Any, scope: dict, depth: int) -> None:
        if not isinstance(component, dict) or depth > MAX_DEPTH:
            return
        scope = dict(scope)
        for binding in component.get("bind") or []:
            if isinstance(binding, dict) and binding.get("name"):
                scope[binding["name"]] = self.value(binding.get("value"), scope)
        if not self.shown(component.get("when"), scope):
            return
        kind = component.get("type")
        layout = self.layouts.get(kind) if isinstance(kind, str) else None
        if isinstance(layout, dict):
            inner: dict[str, Any] = {}
            for parameter in layout.get("parameters") or []:
                name = parameter if isinstance(parameter, str) else (parameter or {}).get("name")
                if not name:
                    continue
                default = None if isinstance(parameter, str) else parameter.get("default")
                inner[name] = self.value(component.get(name, default), scope)
            for key in _CHILD_KEYS:  # a layout's body, as if it were the component
                if key in layout:
                    self.children({key: layout[key]}, inner, depth)
            return
        if isinstance(component.get("text"), str):
            self.show(component["text"], scope)
        if kind != "Text":  # e.g. alexa-layouts' AlexaHeadline, AlexaTextList, AlexaButton
            for name, value in component.items():
                if name in ("text", "type", "when") or name in _NOT_SHOWN:
                    continue
                if _TEXT_PROPERTY.search(name) and isinstance(value, str):
                    self.show(value, scope)
                elif isinstance(value, (list, str)) and name not in _CHILD_KEYS \
                        and name not in ("data", "bind"):
                    self.listed(self.value(value, scope))
        self.children(component, scope, depth)

    def listed(self, value: Any) -> None:
        """Text-like keys of a list of plain objects (`listItems` of AlexaTextList...)."""
        if not isinstance(value, list):
            return
        for element in value:
            if isinstance(element, dict) and "type" not in element:
                for name, text in element.items():
                    if _TEXT_PROPERTY.search(name) and isinstance(text, str):
                        self.texts.append(_plain(text))

    def show(self, text: str, scope: dict) -> None:
        value = self.value(text, scope)
        if value is None or value == "":
            return
        self.texts.append(_plain(value if isinstance(value, str) else _format(value)))

    def shown(self, condition: Any, scope: dict) -> bool:
        if condition is None:
            return True
        if isinstance(condition, bool):
            return condition
        if isinstance(condition, str):
            whole = _EXPRESSION.fullmatch(condition.strip())
            if whole:
                if whole.group(1).strip() in ("false", "true"):
                    return whole.group(1).strip() == "true"
                value = _lookup(whole.group(1), scope)
                return True if value is _UNRESOLVED else bool(value)
            return condition.strip().lower() != "false"
        return bool(condition)

    def value(self, raw: Any, scope: dict) -> Any:
        """Resolve data binding in `raw`; a lone `${path}` keeps the value's own type."""
        if not isinstance(raw, str):
            return raw
        if raw.startswith("@") and raw[1:] in self.strings:
            return self.strings[raw[1:]]
        whole = _EXPRESSION.fullmatch(raw.strip())
        if whole:
            value = _lookup(whole.group(1), scope)
            return raw if value is _UNRESOLVED else value

        def substitute(match: re.Match) -> str:
            value = _lookup(match.group(1), scope)
            return match.group(0) if value is _UNRESOLVED else _format(value)

        return _EXPRESSION.sub(substitute, raw)


def _lookup(expression: str, scope: dict) -> Any:
    """The value of a plain path (`a.b[0]['c']`) in `scope`, or _UNRESOLVED."""
    expression = expression.strip()
    start = _PATH_START.match(expression)
    if not start or start.group(1) not in scope:
        return _UNRESOLVED
    value, position = scope[start.group(1)], start.end()
    while position < len(expression):
        match = _PATH_PART.match(expression, position)
        if not match:
            return _UNRESOLVED
        name, number, _, key = match.groups()
        if number is not None:
            index = int(number)
            value = value[index] if isinstance(value, list) and index < len(value) else None
        else:
            value = value.get(name if name is not None else key) \
                if isinstance(value, dict) else None
        position = match.end()
    return value


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _plain(text: str) -> str:
    """Styled text as it reads: `<br>` a new line, other tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", text)))
