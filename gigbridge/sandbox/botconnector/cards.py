"""Adaptive Cards to HTML, server-side, for the subset Gigbridge sends.

TextBlock, RichTextBlock (its text runs), FactSet, ColumnSet/Column, Container, Image (http(s)
``url`` only), Input.Text (``isMultiline``, ``placeholder``, ``value``, ``label``), ActionSet and
the card's ``actions``: ``Action.Execute`` (a submit button of the card's form, numbered in
document order) and ``Action.OpenUrl`` (a link, http(s) only). Anything else shows as a muted
"unsupported" line, never its raw content. Every value is escaped.

``render(card)`` gives the HTML and, in the same order, the card's ``Action.Execute`` actions and
its input ids: the view finds the clicked action again by its number in the card it shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_BOLD = re.compile(r"\*\*(.+?)\*\*")


@dataclass
class Rendered:
    html: SafeString
    actions: list[dict] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)


def _http(url) -> bool:
    return isinstance(url, str) and url.lower().startswith(("http://", "https://"))


def _classes(*names: str) -> str:
    return " ".join(n for n in names if n)


class _Renderer:
    def __init__(self, form_id: str):
        self.actions: list[dict] = []
        self.inputs: list[str] = []
        self.form_id = form_id

    def elements(self, items) -> str:
        if not isinstance(items, list):
            return ""
        return "".join(self.element(item) for item in items if isinstance(item, dict))

    def element(self, item: dict) -> str:
        kind = item.get("type")
        if item.get("isVisible") is False:
            return ""
        handler = {
            "TextBlock": self.text_block,
            "RichTextBlock": self.rich_text,
            "FactSet": self.fact_set,
            "ColumnSet": self.column_set,
            "Container": self.container,
            "Image": self.image,
            "Input.Text": self.input_text,
            "ActionSet": self.action_set,
        }.get(kind)
        if handler is None:
            return f'<p class="ac-unsupported muted">[unsupported element {escape(str(kind))}]</p>'
        return handler(item)

    def text(self, value) -> str:
        safe = escape(str(value or ""))
        safe = _BOLD.sub(r"<strong>\1</strong>", safe)
        return safe.replace("\n", "<br>")

    def text_block(self, item: dict) -> str:
        classes = _classes(
            "ac-text",
            "ac-bolder" if item.get("weight") == "Bolder" else "",
            f"ac-size-{escape(str(item.get('size')).lower())}" if item.get("size") else "",
            "muted" if item.get("isSubtle") else "",
            f"ac-color-{escape(str(item.get('color')).lower())}" if item.get("color") else "",
        )
        return f'<p class="{classes}">{self.text(item.get("text"))}</p>'

    def rich_text(self, item: dict) -> str:
        runs = []
        for run in item.get("inlines") or []:
            if isinstance(run, str):
                runs.append(self.text(run))
            elif isinstance(run, dict):
                inner = self.text(run.get("text"))
                runs.append(f"<strong>{inner}</strong>" if run.get("weight") == "Bolder" else inner)
        return f'<p class="ac-text">{"".join(runs)}</p>'

    def fact_set(self, item: dict) -> str:
        rows = "".join(
            f"<dt>{self.text(f.get('title'))}</dt><dd>{self.text(f.get('value'))}</dd>"
            for f in item.get("facts") or []
            if isinstance(f, dict)
        )
        return f'<dl class="ac-facts">{rows}</dl>'

    def column_set(self, item: dict) -> str:
        columns = "".join(
            f'<div class="ac-column">{self.elements(c.get("items"))}</div>'
            for c in item.get("columns") or []
            if isinstance(c, dict)
        )
        return f'<div class="ac-columns">{columns}</div>'

    def container(self, item: dict) -> str:
        style = item.get("style")
        classes = _classes("ac-container", f"ac-style-{escape(str(style))}" if style else "")
        return f'<div class="{classes}">{self.elements(item.get("items"))}</div>'

    def image(self, item: dict) -> str:
        url = item.get("url")
        if not _http(url):
            return '<p class="ac-unsupported muted">[image without an http(s) url]</p>'
        alt = escape(str(item.get("altText") or ""))
        return f'<img class="ac-image" src="{escape(url)}" alt="{alt}">'

    def input_text(self, item: dict) -> str:
        input_id = str(item.get("id") or "")
        if not input_id:
            return '<p class="ac-unsupported muted">[input without an id]</p>'
        self.inputs.append(input_id)
        name = escape(f"input:{input_id}")
        dom_id = escape(f"{self.form_id}-{input_id}")
        label = item.get("label")
        out = f'<label for="{dom_id}">{self.text(label)}</label>' if label else ""
        placeholder = escape(str(item.get("placeholder") or ""))
        value = escape(str(item.get("value") or ""))
        limit = item.get("maxLength")
        extra = f' maxlength="{int(limit)}"' if isinstance(limit, int) and limit > 0 else ""
        if item.get("isRequired"):
            extra += " required"
        if item.get("isMultiline"):
            out += (
                f'<textarea id="{dom_id}" name="{name}" form="{escape(self.form_id)}" rows="3" '
                f'placeholder="{placeholder}"{extra}>{value}</textarea>'
            )
        else:
            out += (
                f'<input id="{dom_id}" name="{name}" form="{escape(self.form_id)}" '
                f'placeholder="{placeholder}" value="{value}"{extra}>'
            )
        return f'<div class="ac-input">{out}</div>'

    def action_set(self, item: dict) -> str:
        return self.action_list(item.get("actions"))

    def action_list(self, actions) -> str:
        buttons = []
        for action in actions or []:
            if not isinstance(action, dict) or action.get("isEnabled") is False:
                continue
            title = self.text(action.get("title") or action.get("verb") or "Open")
            kind = action.get("type")
            if kind == "Action.Execute":
                number = len(self.actions)
                self.actions.append(action)
                buttons.append(
                    f'<button type="submit" form="{escape(self.form_id)}" name="action" '
                    f'value="{number}">{title}</button>'
                )
            elif kind == "Action.OpenUrl" and _http(action.get("url")):
                buttons.append(
                    f'<a class="ac-link" href="{escape(action["url"])}" rel="noopener noreferrer" '
                    f'target="_blank">{title}</a>'
                )
            else:
                buttons.append(
                    f'<span class="ac-unsupported muted">[unsupported action {escape(str(kind))}]'
                    "</span>"
                )
        return f'<div class="ac-actions">{"".join(buttons)}</div>' if buttons else ""


def render(card: dict, form_id: str = "card") -> Rendered:
    renderer = _Renderer(form_id)
    if not isinstance(card, dict) or card.get("type") != "AdaptiveCard":
        return Rendered(mark_safe('<p class="ac-unsupported muted">[not an Adaptive Card]</p>'))
    body = renderer.elements(card.get("body"))
    body += renderer.action_list(card.get("actions"))
    html = f'<div class="ac-card">{body}</div>'
    return Rendered(mark_safe(html), renderer.actions, renderer.inputs)  # noqa: S308 (escaped)


def adaptive_card(attachments) -> dict | None:
    """The first Adaptive Card among an activity's attachments."""
    for attachment in attachments or []:
        if (
            isinstance(attachment, dict)
            and attachment.get("contentType") == "application/vnd.microsoft.card.adaptive"
            and isinstance(attachment.get("content"), dict)
        ):
            return attachment["content"]
    return None
