"""The hub introduction's Markdown is rendered safely, whatever a program admin types."""

from __future__ import annotations

import pytest

from gigbridge.program.hub_markdown import MAX_INTRO, clean, render


def test_markdown_renders():
    html = render("# Welcome\n\n*Freelancers* help **us**. [Guide](https://intranet.example/g)")
    assert "<h1>Welcome</h1>" in html and "<em>Freelancers</em>" in html
    assert '<a href="https://intranet.example/g" rel="noopener noreferrer">Guide</a>' in html


@pytest.mark.parametrize(
    "hostile, forbidden",
    [
        ("<script>alert(1)</script>", "<script"),
        ('<img src=x onerror="alert(1)">', "<img"),
        ("[click](javascript:alert(1))", 'href="javascript'),
        ("[click](JaVaScRiPt:alert(1))", "href="),
        ('<a href="https://x.example" onclick="steal()">x</a>', "<a "),
        ("<iframe src=https://evil.example></iframe>", "<iframe"),
        ("<div style='position:fixed'>x</div>", "<div"),
        ("![pic](https://evil.example/track.png)", "<img"),
        ("[data](data:text/html;base64,PHNjcmlwdD4=)", "href="),
    ],
)
def test_hostile_input_is_neutralised(hostile, forbidden):
    html = render(hostile)
    assert forbidden.lower() not in html.lower(), html


def test_the_sanitiser_itself_keeps_only_the_allow_list():
    dirty = (
        '<p onmouseover="x()">a<script>b</script></p><a href="javascript:x()">c</a>'
        '<a href="https://ok.example" target="_blank">d</a><style>p{}</style>'
    )
    html = clean(dirty)
    assert "onmouseover" not in html and "<script" not in html and "javascript:" not in html
    assert "<style" not in html and "target" not in html
    assert 'href="https://ok.example" rel="noopener noreferrer"' in html


def test_only_the_bounded_length_is_read():
    html = render("a" * (MAX_INTRO + 500))
    assert html.count("a") <= MAX_INTRO + 10
