"""The console's two languages say the same things, and the browser's language is read sensibly."""

from __future__ import annotations

import re

import pytest

from cxinbox.web.i18n import MESSAGES, Translator, choose_language

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_every_language_has_every_message_with_the_same_placeholders():
    english = MESSAGES["en"]
    for language, messages in MESSAGES.items():
        assert messages.keys() == english.keys(), language
        for key, text in messages.items():
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(english[key])), (language, key)


@pytest.mark.parametrize(
    ("chosen", "header", "expected"),
    [
        ("es", "en", "es"),
        (None, "es-MX,es;q=0.9,en;q=0.8", "es"),
        (None, "fr-FR,en;q=0.5,es;q=0.9", "es"),
        (None, "fr, de", "en"),
        ("xx", "q=;;,,", "en"),
        (None, None, "en"),
        (None, "es;q=0", "en"),
    ],
)
def test_choose_language(chosen, header, expected):
    assert choose_language(chosen, header) == expected


def test_translator_fills_placeholders():
    assert Translator("es")("unread_badge", n=3) == "3 sin leer"
