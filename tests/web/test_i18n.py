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


def test_every_word_a_page_names_is_in_every_language():
    """Each literal ``t("key")`` of the templates is a message (a missing one is a server error)."""
    from pathlib import Path

    import cxinbox.web

    templates = Path(cxinbox.web.__file__).parent / "templates"
    named = {
        key
        for page in templates.rglob("*.html")
        for key in re.findall(r"""\bt\(\s*["'](\w+)["']\s*[,)]""", page.read_text())
    }
    assert named and named <= MESSAGES["en"].keys(), sorted(named - MESSAGES["en"].keys())
