"""The hub's introduction: Markdown written by a program admin, shown to every employee.

Rendered with markdown-it-py in CommonMark mode with raw HTML turned off (``<script>`` in the
text stays text), then sanitised with nh3 all the same (defence in depth: a later change of
options or a parser bug must not reach readers): an allow-list of tags and attributes, links
only to http(s) and mailto addresses and always with ``rel="noopener noreferrer"``.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

MAX_INTRO = 20_000  # characters of Markdown

TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "ul", "ol", "li", "strong", "em",
    "a", "blockquote", "code", "pre", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def clean(html: str) -> str:
    """Allow-listed HTML only; the same rules for the intro and everything published."""
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render(markdown: str) -> str:
    """Safe HTML for ``markdown`` (at most ``MAX_INTRO`` characters are read)."""
    return clean(_parser.render((markdown or "")[:MAX_INTRO]))
