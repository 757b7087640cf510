"""Words as the full-text index sees them, the same on SQLite and PostgreSQL.

A chunk is indexed in its own language (Spanish or English, told apart by their commonest words) with
that language's Snowball stemmer: "devoluciones" and "devolución" meet at "devolu", "refunds" and
"refunded" at "refund". Accents are folded after stemming ("envío" and "envio" match). A question is
short and may be either language, so each of its words is looked up under both stems.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"\w+", re.UNICODE)
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
#: longer "words" are ids, hashes or noise: they never help a search and bloat the index
MAX_WORD_LENGTH = 40

SPANISH = frozenset(
    [
        "a",
        "al",
        "algo",
        "algunas",
        "algunos",
        "ante",
        "antes",
        "como",
        "con",
        "contra",
        "cual",
        "cuales",
        "cuando",
        "de",
        "del",
        "desde",
        "donde",
        "durante",
        "e",
        "el",
        "ella",
        "ellas",
        "ellos",
        "en",
        "entre",
        "era",
        "eran",
        "es",
        "esa",
        "esas",
        "ese",
        "eso",
        "esos",
        "esta",
        "estaba",
        "estado",
        "estan",
        "estas",
        "este",
        "esto",
        "estos",
        "fue",
        "fueron",
        "ha",
        "hace",
        "hacen",
        "han",
        "hasta",
        "hay",
        "la",
        "las",
        "le",
        "les",
        "lo",
        "los",
        "mas",
        "me",
        "mi",
        "mis",
        "mucho",
        "muy",
        "nada",
        "ni",
        "no",
        "nos",
        "nosotros",
        "o",
        "os",
        "otra",
        "otras",
        "otro",
        "otros",
        "para",
        "pero",
        "poco",
        "por",
        "porque",
        "que",
        "quien",
        "quienes",
        "se",
        "sea",
        "sean",
        "segun",
        "ser",
        "si",
        "sido",
        "sin",
        "sobre",
        "son",
        "su",
        "sus",
        "tambien",
        "tan",
        "te",
        "tiene",
        "tienen",
        "toda",
        "todas",
        "todo",
        "todos",
        "tu",
        "tus",
        "un",
        "una",
        "unas",
        "uno",
        "unos",
        "usted",
        "ustedes",
        "y",
        "ya",
        "yo",
        "puedo",
        "puede",
        "pueden",
        "hago",
        "mio",
        "tengo",
        "cuanto",
        "cuanta",
        "cuantos",
        "cuantas",
        "quiero",
    ]
)
ENGLISH = frozenset(
    [
        "a",
        "about",
        "after",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "before",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "for",
        "from",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "just",
        "me",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "get",
        "got",
        "i'm",
    ]
)
_STEMMERS = {"es": snowballstemmer.stemmer("spanish"), "en": snowballstemmer.stemmer("english")}


def fold(word: str) -> str:
    """Lower case without accents (``ñ`` stays ``n``: people type it both ways)."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text) if len(w) <= MAX_WORD_LENGTH]


def language_of(text: str) -> str:
    """``es`` or ``en``: whichever language's common words the text uses more (Spanish on a tie)."""
    folded = [fold(w) for w in words(text)[:400]]
    spanish = sum(w in SPANISH for w in folded)
    english = sum(w in ENGLISH for w in folded)
    return "en" if english > spanish else "es"


@lru_cache(maxsize=65536)
def stem(word: str, language: str) -> str:
    return fold(_STEMMERS[language].stemWord(word))


def _is_stopword(word: str) -> bool:
    folded = fold(word)
    return folded in SPANISH or folded in ENGLISH


def index_terms(text: str, language: str | None = None) -> str:
    """What the full-text index stores for ``text``: its stemmed words, stop words left out."""
    language = language or language_of(text)
    return " ".join(stem(w, language) for w in words(text) if not _is_stopword(w))


def query_terms(text: str) -> list[str]:
    """The stems a question is looked up by (each word under both languages), in first-seen order."""
    terms: dict[str, None] = {}
    for word in words(text):
        if _is_stopword(word):
            continue
        for language in ("es", "en"):
            terms[stem(word, language)] = None
    return [t for t in terms if t]


def token_count(text: str) -> int:
    """An estimate of a model's tokens (words and punctuation marks), for budgeting a prompt."""
    return len(_TOKEN.findall(text))
