"""The sandbox's Adaptive Card rendering escapes every value a card carries, attributes too."""

from gigbridge.sandbox.botconnector import cards

HOSTILE = '"><b onmouseover="x">&'


def test_every_value_of_a_card_is_escaped_in_text_and_attributes():
    card = {
        "type": "AdaptiveCard",
        "body": [
            {"type": "TextBlock", "text": HOSTILE, "size": HOSTILE, "color": HOSTILE},
            {"type": "Container", "style": HOSTILE, "items": []},
            {"type": "FactSet", "facts": [{"title": HOSTILE, "value": HOSTILE}]},
            {"type": "Image", "url": "https://example.com/x.png?" + HOSTILE, "altText": HOSTILE},
            {"type": "Input.Text", "id": HOSTILE, "label": HOSTILE, "value": HOSTILE,
             "placeholder": HOSTILE},
            {"type": HOSTILE},
        ],
        "actions": [
            {"type": "Action.Execute", "title": HOSTILE, "verb": "v"},
            {"type": "Action.OpenUrl", "title": HOSTILE, "url": "https://example.com/" + HOSTILE},
            {"type": "Action.OpenUrl", "title": "js", "url": "javascript:alert(1)"},
        ],
    }  # fmt: skip
    html = str(cards.render(card, "card-1").html)
    assert "<b " not in html and 'onmouseover="' not in html
    assert html.count("&quot;&gt;&lt;b onmouseover=&quot;x&quot;&gt;&amp;") >= 10
    assert "javascript:" not in html
