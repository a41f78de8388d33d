"""The Teams view shows a message's HTML as Teams does, keeping only harmless formatting."""

from __future__ import annotations

from gigbridge.sandbox.botconnector.richtext import clean


def test_formatting_is_kept():
    text = "<p><b>EN-1 A &amp; B</b></p><p>x<br>y</p><p><small>Upwork story 1</small></p>"
    assert clean(text) == text


def test_scripts_handlers_and_other_links_are_dropped():
    shown = clean(
        '<script>alert(1)</script><p onclick="x">hi <a href="javascript:alert(1)">j</a> '
        '<img src=x onerror=alert(1)><a href="https://x.example/?a=1&b=2">ok</a></p>'
    )
    assert shown == (
        '<p>hi j <a href="https://x.example/?a=1&amp;b=2" rel="noopener noreferrer">ok</a></p>'
    )


def test_text_stays_escaped_and_tags_are_closed():
    assert clean("&lt;b&gt; <b>bold <i>both") == "&lt;b&gt; <b>bold <i>both</i></b>"
    assert clean("</p></b>stray") == "stray"
