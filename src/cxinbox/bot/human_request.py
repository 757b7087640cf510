"""Whether a customer's message asks for a person (the ``handoffOnRequest`` trigger), in Spanish or
English, read with letters folded as intents read them (``matching.normalized``)."""

from __future__ import annotations

from cxinbox.bot.matching import normalized

#: phrases (already folded) that ask for a person anywhere in a message
PHRASES = (
    "hablar con una persona",
    "hablar con alguien",
    "hablar con un humano",
    "hablar con un agente",
    "hablar con un asesor",
    "hablar con un ejecutivo",
    "quiero una persona",
    "persona real",
    "atencion humana",
    "un humano",
    "un agente",
    "un asesor",
    "talk to a human",
    "talk to a person",
    "talk to someone",
    "speak to a human",
    "speak to a person",
    "speak with a human",
    "speak with a person",
    "real person",
    "human agent",
    "live agent",
    "customer service representative",
)
#: a short message (a few words) with one of these words asks too: "agente por favor"
SHORT_WORDS = 4
WORDS = frozenset(
    {"agente", "humano", "persona", "asesor", "operador", "human", "agent", "person", "operator"}
)


def asks_for_human(text: str | None) -> bool:
    folded = normalized(text or "")
    if not folded:
        return False
    words = folded.split()
    if len(words) <= SHORT_WORDS and WORDS.intersection(words):
        return True
    padded = f" {folded} "
    return any(f" {phrase} " in padded for phrase in PHRASES)
