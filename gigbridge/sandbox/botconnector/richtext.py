"""A message's HTML (``textFormat`` ``xml`` or ``html``) shown as Teams shows it: paragraphs,
line breaks, bold, italics, small print, code, lists, quotes and http(s) links keep their form;
every other tag is dropped (its text stays, escaped), and what a script or style holds is
dropped with it. No attribute is kept but a link's ``href``."""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

from django.utils.safestring import SafeString, mark_safe

KEPT = {
    "p", "div", "b", "strong", "i", "em", "u", "s", "small", "code", "pre",
    "ul", "ol", "li", "blockquote", "h1", "h2", "h3",
}  # fmt: skip
EMPTY = {"br", "hr"}
HIDDEN = {"script", "style", "template", "head", "title"}


class _Cleaner(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN:
            self.hidden += 1
        elif self.hidden:
            return
        elif tag in EMPTY:
            self.out.append(f"<{tag}>")
        elif tag in KEPT:
            self.out.append(f"<{tag}>")
            self.open.append(tag)
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            if href.lower().startswith(("https://", "http://")):
                self.out.append(f'<a href="{escape(href)}" rel="noopener noreferrer">')
                self.open.append("a")

    def handle_startendtag(self, tag, attrs):
        if tag in EMPTY and not self.hidden:
            self.out.append(f"<{tag}>")

    def handle_endtag(self, tag):
        if tag in HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif not self.hidden and tag in self.open:
            while self.open:  # close what is still open inside it, then it
                last = self.open.pop()
                self.out.append(f"</{last}>")
                if last == tag:
                    break

    def handle_data(self, data):
        if not self.hidden:
            self.out.append(escape(data))

    def result(self) -> str:
        self.close()
        return "".join(self.out) + "".join(f"</{tag}>" for tag in reversed(self.open))


def clean(text: str) -> SafeString:
    cleaner = _Cleaner()
    cleaner.feed(text or "")
    return mark_safe(cleaner.result())  # noqa: S308 - built from escaped text and kept tags only
