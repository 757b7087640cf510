"""Matching a customer's message to an intent by its examples, before any LLM is asked: the message
matches an example when, letters folded (case and accents) and punctuation dropped, the example's
words appear in it in order and together."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from cxinbox.models.bot import BotIntent

_NON_WORD = re.compile(r"[^\w]+")


def normalized(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", letters).split())


def first_match(message: str, intents: Iterable[BotIntent]) -> BotIntent | None:
    """The first active intent (in their order) one of whose examples the message contains."""
    text = f" {normalized(message)} "
    for intent in intents:
        if not intent.is_active:
            continue
        for example in intent.examples or []:
            words = normalized(example)
            if words and f" {words} " in text:
                return intent
    return None
