"""Screening a customer's inbound text for prompt injection, before the bot's tools run.

Pure and fast (regular expressions compiled once, no LLM): ``screen(text)`` answers whether the
text tries to steer the model rather than talk to the business, and why. A flagged turn runs
without tools, so precision matters as much as recall: everyday messages such as "ignore my last
message, I meant size M", "can you show me the system for returns?" or "olvida lo anterior, quiero
otro color" must pass. Every rule therefore needs the *object* of an attack ("your instructions",
"the system prompt", "developer mode", a chat-template token), never a verb alone.

The text is read in three forms: folded (case, accents, compatibility forms), de-obfuscated
(zero-width characters dropped, look-alike letters from other scripts mapped to Latin, digits used
as letters decoded, spaced-out letters joined), and base64 or ROT13 payloads decoded. A rule that
matches only after de-obfuscation or decoding adds the reason ``obfuscation``.

Rules cover English and Spanish. Reasons, each a stable string:
``override`` (ignore or replace previous/system instructions), ``reveal`` (the system prompt,
secrets, keys, configuration, other customers' data), ``jailbreak`` (role-play framings, DAN,
developer mode, "without restrictions"), ``spoofing`` (fake system/assistant turns, chat-template
tokens, tool-call JSON or syntax, requests to invoke tools) and ``obfuscation``.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from dataclasses import dataclass

from cxinbox.bot.screening_needles import may_match, needles

OVERRIDE = "override"
REVEAL = "reveal"
JAILBREAK = "jailbreak"
SPOOFING = "spoofing"
OBFUSCATION = "obfuscation"
REASONS = (OVERRIDE, REVEAL, JAILBREAK, SPOOFING, OBFUSCATION)

#: characters of one message screened, WhatsApp's text limit (longer texts: their head and tail)
MAX_CHARS = 4096


@dataclass(frozen=True, slots=True)
class Screening:
    flagged: bool
    reasons: tuple[str, ...] = ()


CLEAN = Screening(flagged=False)

_ZERO_WIDTH = dict.fromkeys(
    map(
        ord,
        "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
        "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069"
        "\u3164\ufeff\uffa0",
    ),
    None,
)
# Letters of other scripts that look like Latin ones (after case folding), from Unicode's
# confusables for the alphabets attackers use: Cyrillic, Greek, Armenian, and a few IPA letters.
_CONFUSABLES = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "һ": "h",
        "ӏ": "l",
        "ɡ": "g",
        "ɑ": "a",
        "ι": "i",
        "ο": "o",
        "α": "a",
        "ε": "e",
        "κ": "k",
        "ν": "v",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "γ": "y",
        "ω": "w",
        "η": "n",
        "β": "b",
        "μ": "u",
        "ѵ": "v",
        "օ": "o",
        "ս": "u",
        "զ": "q",
        "ց": "g",
        "հ": "h",
        "ո": "n",
        "ɩ": "i",
        "ʏ": "y",
        "ı": "i",
        "ȷ": "j",
        "ℓ": "l",
    }
)
_UPPER_CONFUSABLES = str.maketrans(
    {
        "Α": "A",
        "Β": "B",
        "Ε": "E",
        "Η": "H",
        "Ι": "I",
        "Κ": "K",
        "Μ": "M",
        "Ν": "N",
        "Ο": "O",
        "Ρ": "P",
        "Τ": "T",
        "Υ": "Y",
        "Χ": "X",
        "Ζ": "Z",
        "А": "A",
        "В": "B",
        "Е": "E",
        "К": "K",
        "М": "M",
        "Н": "H",
        "О": "O",
        "Р": "P",
        "С": "C",
        "Т": "T",
        "Х": "X",
        "І": "I",
        "Ј": "J",
        "Ѕ": "S",
        "Ү": "Y",
        "Ԍ": "G",
        "Ꮪ": "S",
    }
)
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i", "|": "l"}
)
_LEET_WORD = re.compile(r"[\w@$!|]*[a-z][\w@$!|]*")
# Four or more single letters separated by one space, dot, dash, underscore, star or slash:
# "i g n o r e", "r.e.v.e.a.l". Two or more separators in a row end a word.
_SPACED = re.compile(r"(?<![\w])(?:[a-z][ .\-_*/]){3,}[a-z](?![\w])")
_SPACED_SEPARATOR = re.compile(r"[ .\-_*/]")
_HYPHENATED = re.compile(r"(?<=[a-z])-(?=[a-z])")
_CASE_SWITCH = re.compile(r"[a-z](?=[A-Z])|[A-Z](?=[a-z])")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{24,}={0,2}")
_SPACES = re.compile(r"[^\S\n]+")


def fold(text: str) -> str:
    """Case, accents and compatibility forms (full-width, ligatures, math letters) folded."""
    decomposed = unicodedata.normalize("NFKD", text).casefold()
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def deobfuscate(raw: str) -> str:
    """Zero-width characters dropped, look-alike letters mapped to Latin, digits used as letters
    decoded, spaced-out letters and hyphenated syllables joined (on top of ``fold``)."""
    text = _SPACES.sub(" ", fold(raw.translate(_ZERO_WIDTH).translate(_UPPER_CONFUSABLES)))
    text = text.translate(_CONFUSABLES)
    text = _HYPHENATED.sub("", text)
    text = _LEET_WORD.sub(
        lambda m: m.group().translate(_LEET) if not m.group().isalpha() else m.group(), text
    )
    return _SPACED.sub(lambda m: _SPACED_SEPARATOR.sub("", m.group()), text)


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.MULTILINE)


def _verb_then(verbs: str, rest: str) -> str:
    """One of ``verbs``, then ``rest`` within the same sentence."""
    return r"\b" + verbs + r"\b" + _GAP + rest


# Pieces shared by the rules (they read folded, accent-free, lower-case text).
_GAP = r"[^.!?\n]{0,40}?"
_EN_NOUN = (
    r"(?:instructions?|directives?|rules|guidelines|prompts?|programming|system (?:message|prompt)s?"
    r"|constraints|guardrails|restrictions|polic(?:y|ies)|training|orders|commands|context)"
)
_EN_QUALIFIER = (
    r"(?<!\bmy )(?<!\bour )(?:previous|prior|above|earlier|preceding|all(?: of)?(?: the| your)?|your"
    r"|initial|original|system|existing|current|safety|any|hidden|default|developer'?s?|openai'?s?"
    r"|these|those|the above|the previous|the system|the original|the initial)"
)
_ES_VERB = (
    r"(?:ignora|ignore|ignorar|ignoren|ignoras|olvida|olvide|olvidar|olviden|olvidate de|omite|omitir"
    r"|descarta|descartar|desobedece|saltate|salta|pasa por alto|deja de lado|"
    r"hazte de lado de|haz caso omiso (?:de|a)"
    r"|no (?:sigas|hagas caso (?:de|a)|obedezcas|respetes)|deja de (?:seguir|obedecer|respetar)"
    r"|anula|anular|sobrescribe|sobreescribe|borra|elimina|desactiva|quitate)"
)
_ES_NOUN = (
    r"(?:instrucciones|instruccion|indicaciones|directrices|directivas|reglas|normas|prompt"
    r"|programacion|restricciones|politicas|lineamientos|configuracion|mensaje del sistema|filtros"
    r"|ordenes|limitaciones)"
)
_ES_BEFORE = r"(?:tus|tu|todas (?:tus|las)|todas|sus|las del sistema|cualquier)"
_ES_AFTER = (
    r"(?:anteriores|previas|originales|iniciales|de arriba|del sistema|de seguridad|internas|ocultas"
    r"|que te (?:dieron|han dado|dio|programaron|pusieron|configuraron|ensenaron)|"
    r"con las que (?:te|fuiste)|de (?:tu|la) empresa|de tus (?:creadores|desarrolladores|"
    r"programadores))"
)
_EN_REVEAL_VERB = (
    r"(?:reveal|show|print|display|output|repeat|tell|give|share|dump|leak|list|write out|spell out"
    r"|what (?:is|are|was|were)|what's|whats|send|copy|paste|echo|expose|disclose|return|recite"
    r"|read out|type out|provide|quote|summari[sz]e|paraphrase|translate|explain)"
)
_ES_REVEAL_VERB = (
    r"(?:revela|revelame|muestra|muestrame|mostrar|ensena|ensename|dime|di|decir|imprime|imprimir"
    r"|escribe|escribeme|repite|repiteme|comparte|compartir|dame|pasame|envia|enviame|copia|lista"
    r"|cual(?:es)? (?:es|son|era|eran)|que dice|que dicen|filtra|expon|proporciona|"
    r"cita|resume|resumeme|traduce|parafrasea|explica|explicame)"
)
_SECRET_EN = (
    r"(?:api[ _-]?keys?|secret keys?|access tokens?|bearer tokens?|auth(?:entication)? tokens?"
    r"|(?:openai|anthropic|gemini|llm|provider) (?:api )?keys?|env(?:ironment)? var(?:iable)?s?"
    r"|\.env\b|private keys?|connection strings?|(?:database|db|server) (?:password|credentials)"
    r"|webhook secrets?|n8n secrets?|signing secrets?)"
)
_SECRET_ES = (
    r"(?:(?:clave|llave|key)s? (?:de (?:la )?)?api|api ?keys?|llaves? secretas?|claves? secretas?"
    r"|tokens? de (?:acceso|api|autenticacion)|variables de entorno|credenciales (?:del|"
    r"de la) (?:sistema|api|servidor|base de datos|bot|administrador)"
    r"|contrasena del (?:sistema|administrador|admin|servidor|bot)|contrasena de la base de datos"
    r"|secreto del webhook|cadena de conexion)"
)

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # --- override --------------------------------------------------------------------------
    (
        OVERRIDE,
        _rx(
            r"\b(?:ignore|disregard|forget|override|overrule|bypass|skip|abandon|set aside|throw out|discard"
            r"|don'?t follow|do not follow|stop following|no longer follow|stop obeying|disobey|erase|delete"
            r"|clear|reset|drop)\b" + _GAP + r"\b" + _EN_QUALIFIER + r"\s+(?:\w+\s+){0,2}?" + _EN_NOUN + r"\b"
        ),
    ),
    (
        OVERRIDE,
        _rx(
            r"\b(?:ignore|disregard|forget|override|bypass|set aside|discard|don'?t follow|"
            r"do not follow|stop following|stop obeying|disobey)\b"
            + _GAP
            + r"\b(?:rules|instructions|guidelines|policies|directives|orders) (?:you (?:were|"
            r"have been|are) (?:given|configured|set up|programmed|trained)|(?:given|"
            r"set|written) (?:to you|by (?:the|your))|from (?:the|your) (?:company|developers?|"
            r"creators?|owners?|admins?|operators?|system|business))"
        ),
    ),
    (
        OVERRIDE,
        _rx(
            r"\b(?:ignore|disregard|disobey) (?:the|your) (?:system|developers?|creators?|"
            r"programmers?|programming|training|company)(?: and|,)|\bdesobedece (?:a )?(?:tu|"
            r"la|tus) (?:empresa|sistema|creadores?|programadores?|desarrolladores?|"
            r"jefes?)\b"
        ),
    ),
    (
        OVERRIDE,
        _rx(
            r"\b(?:the )?(?:real|actual|true) instructions (?:follow|are|below)\b|\blas (?:instrucciones|"
            r"ordenes|reglas) (?:reales|verdaderas) son\b"
        ),
    ),
    (
        OVERRIDE,
        _rx(
            r"\b(?:forget|ignore|disregard)\s+(?:everything|all|anything)\s+(?:you(?:'ve|"
            r" have)? (?:been|were) (?:told|taught|trained|programmed|instructed|given)|"
            r"(?:above|before this|prior to this|you know))"
        ),
    ),
    (
        OVERRIDE,
        _rx(
            r"\b"
            + _ES_VERB
            + _GAP
            + r"\b(?:"
            + _ES_BEFORE
            + r"\s+(?:\w+\s+)?"
            + _ES_NOUN
            + r"|(?<!\bmis )"
            + _ES_NOUN
            + r"\s+(?:\w+\s+)?"
            + _ES_AFTER
            + r")\b"
        ),
    ),
    (
        OVERRIDE,
        _rx(
            r"\b(?:olvida|olvidate de|ignora|borra)\s+(?:todo )?(?:lo que )?(?:te (?:dijeron|"
            r"ensenaron|programaron|indicaron|ordenaron)|sabes|aprendiste)\b"
        ),
    ),
    (
        OVERRIDE,
        _rx(
            r"\b(?:ignore|disregard|forget|ignora|olvida|omite)\b[^.\n]{0,30}\b(?:above|"
            r"anterior|previous|prior)\b[^.\n]{0,25}\b(?:say|print|output|write|repeat|"
            r"reply with|respond with|di|escribe|imprime|repite|responde con|contesta con)\b\s*[\"'“«:]"
        ),
    ),
    (
        OVERRIDE,
        _rx(
            r"(?:^|[.!?\[(#*>]\s*|\bimportant:?\s*)(?:new|updated|revised|real|actual|"
            r"true|additional|important new) (?:system )?(?:instructions|directives|"
            r"rules|prompt|task)\s*[:\-]"
        ),
    ),
    (
        OVERRIDE,
        _rx(
            r"(?:^|[.!?\[(#*>]\s*)(?:nuevas|verdaderas|nuevas y verdaderas|actualizadas|"
            r"autenticas) (?:instrucciones|directrices|reglas|ordenes)(?: del sistema)?\s*[:\-]"
        ),
    ),
    (
        OVERRIDE,
        _rx(
            r"\byour (?:new|real|true|actual|only) (?:task|instructions?|role|goal|purpose|"
            r"objective|job|mission|directive|prompt) (?:is|are|will be|now)\b"
        ),
    ),
    (
        OVERRIDE,
        _rx(
            r"\btu (?:nueva|verdadera|unica|real) (?:tarea|funcion|mision|instruccion|"
            r"objetivo|proposito|orden|rol) (?:es|sera|ahora)\b|\btus nuevas (?:instrucciones|"
            r"ordenes|reglas) son\b"
        ),
    ),
    (
        OVERRIDE,
        _rx(
            r"\bfrom now on,? (?:you (?:are|will be|shall be|must act|will act|act|behave|"
            r"will behave|will respond|respond|must respond|will answer|answer|will ignore|"
            r"must ignore|have no|no longer|will no longer|don'?t have|do not have|can ignore)|"
            r"your (?:name|role|task|job|instructions|rules) (?:is|are))\b"
        ),
    ),
    (
        OVERRIDE,
        _rx(
            r"\b(?:a partir de ahora|de ahora en adelante|desde ahora|desde este momento),? (?:tu )?(?:eres|"
            r"seras|actuaras|actua|te comportaras|comportate|responderas|contestaras|"
            r"ignoraras|ignora|no tienes|ya no (?:eres|tienes|sigues|respetas)|solo responderas|"
            r"tu (?:nombre|rol|tarea|funcion) es)\b"
        ),
    ),
    (
        OVERRIDE,
        _rx(
            r"\b(?:system|admin|administrator|security|developer|root|emergency) override\b|"
            r"\b(?:anulacion|override) (?:del|de) (?:sistema|administrador|seguridad)\b"
        ),
    ),
    (
        OVERRIDE,
        _rx(
            r"\b(?:the|your) (?:previous|above|prior|original|system) (?:instructions|"
            r"rules|prompt) (?:are|is|were|was) (?:void|cancell?ed|revoked|outdated|"
            r"obsolete|no longer valid|null|invalid|fake|wrong)\b|\b(?:las|tus) (?:instrucciones|"
            r"reglas) (?:anteriores|previas|originales|del sistema)? ?(?:ya )?(?:no son validas|"
            r"quedan (?:anuladas|canceladas|sin efecto)|estan (?:anuladas|canceladas|"
            r"obsoletas)|son falsas)\b"
        ),
    ),
    # --- reveal ----------------------------------------------------------------------------
    (
        REVEAL,
        _rx(
            r"\b(?:system|initial|hidden|original|secret|internal|pre|meta|developer|"
            r"base) ?-?prompt\b|\bsystem (?:message|instructions)\b|\byour (?:full |"
            r"exact |complete |entire |original |initial )?prompt\b"
        ),
    ),
    (
        REVEAL,
        _rx(
            r"\b(?:prompt|mensaje|instrucciones|indicaciones) (?:del sistema|de sistema|"
            r"inicial(?:es)?|ocult[oa]s?|original(?:es)?|intern[oa]s?|secret[oa]s?)\b|"
            r"\btu prompt\b"
        ),
    ),
    (
        REVEAL,
        _rx(
            _verb_then(
                _EN_REVEAL_VERB,
                r"\byour (?:full |exact |complete |entire |original |initial |hidden |internal |"
                r"secret |real |actual )?(?:instructions|guidelines|rules|directives|programming|"
                r"configuration|config|settings|parameters|temperature|credentials|password|"
                r"api key|keys|secrets?|context window|training data)\b(?! (?:for|on|about|"
                r"regarding|to) (?:returns?|refunds?|shipping|delivery|exchanges?|warranty|"
                r"payments?|installation|appointments?|cancell?ations?|the))",
            )
        ),
    ),
    (
        REVEAL,
        _rx(
            r"\b(?:instructions|rules|guidelines) (?:you (?:were|have been) (?:given|"
            r"programmed with|trained (?:on|with))|you (?:received|got)|you follow (?:from|"
            r"before|at the start)|(?:above|before) (?:this|my) (?:message|line))\b|"
            r"\bwhat (?:were|are) you (?:told|instructed|programmed) to\b|\bwhat (?:instructions|"
            r"rules|prompt|directives) (?:were|have) you (?:been )?(?:given|told|programmed with)\b|"
            r"\bhow (?:were|are) you (?:programmed|instructed|configured|prompted)\b"
        ),
    ),
    (REVEAL, _rx(_verb_then(_EN_REVEAL_VERB, r"(?<!\bmy )(?<!\bmy own )" + _SECRET_EN))),
    (
        REVEAL,
        _rx(
            r"(?:"
            + _SECRET_EN
            + r"|"
            + _SECRET_ES
            + r")\b[^.\n]{0,25}\b(?:(?:do|does|are|did) (?:you|the bot) (?:use|using|have|"
            r"run)|(?:que )?(?:usas|utilizas|tienes|ocupas|usa el bot))\b"
        ),
    ),
    (
        REVEAL,
        _rx(
            _verb_then(
                _ES_REVEAL_VERB,
                r"\b(?:instrucciones|indicaciones|reglas|ordenes) (?:que )?(?:recibiste|"
                r"te (?:dieron|pusieron|programaron|configuraron)|tienes (?:ocultas|internas)|"
                r"sigues)\b",
            )
        ),
    ),
    (
        REVEAL,
        _rx(
            r"\b(?:repeat|print|output|copy|recite|echo)\b[^.\n]{0,20}\b(?:words|text|"
            r"everything|all|instructions|lines?|content|message)\s+(?:above|before (?:this|"
            r"my first)|preceding)\b|\bstarting with (?:the words )?[\"'“]?you are\b"
        ),
    ),
    (
        REVEAL,
        _rx(
            _verb_then(
                _ES_REVEAL_VERB,
                r"\b(?:tus|tu) (?:\w+ )?(?:instrucciones|indicaciones|directrices|reglas internas|"
                r"reglas ocultas|programacion|configuracion|parametros|credenciales|contrasena|"
                r"claves?|llaves?|secretos?|temperatura)\b",
            )
        ),
    ),
    (REVEAL, _rx(_verb_then(_ES_REVEAL_VERB, r"(?<!\bmis )(?<!\bmi )" + _SECRET_ES))),
    (
        REVEAL,
        _rx(
            r"\b(?:que|cuales) (?:instrucciones|indicaciones|reglas|ordenes) te (?:dieron|"
            r"dio|programaron|pusieron|han dado)\b|\bcomo te (?:programaron|configuraron|"
            r"entrenaron|instruyeron)\b|\bcon que (?:instrucciones|prompt) (?:te|fuiste)\b"
        ),
    ),
    (
        REVEAL,
        _rx(
            r"\b(?:list|show|give|send|dump|export|print|share|tell)\b[^.\n]{0,15}\b(?:all|"
            r"every|other|the other)\s+(?:\w+\s+)?(?:customer|client|user|patient|subscriber|"
            r"contact|member)s?'?s?\s+(?:\w+\s+)?(?:data|info|information|phones?|phone numbers|"
            r"numbers|emails?|addresses|records|details|orders|files|histories|names)\b"
        ),
    ),
    (
        REVEAL,
        _rx(
            r"\b(?:data|info|information|phones?|phone numbers|emails?|addresses|records|"
            r"details|orders|files|histories) (?:of|from|for) (?:all |every )?(?:the )?other (?:customers|"
            r"clients|users|patients|subscribers|contacts|members)\b"
        ),
    ),
    (
        REVEAL,
        _rx(
            r"\b(?:lista|listame|muestra|muestrame|dame|pasame|envia|enviame|exporta|"
            r"comparte|dime)\b[^.\n]{0,20}\b(?:los |las |la lista de |una lista de )?(?:datos|"
            r"telefonos|numeros|correos|direcciones|expedientes|historiales|nombres|"
            r"pedidos|registros|informacion) de (?:todos los|todas las|los demas|las demas|"
            r"otros|otras) (?:clientes|usuarios|pacientes|suscriptores|contactos)\b"
        ),
    ),
    # --- jailbreak -------------------------------------------------------------------------
    (
        JAILBREAK,
        _rx(
            r"\bdo anything now\b|\bhaz cualquier cosa ahora\b|\b(?:you are|you're|act as|"
            r"acting as|act like|acts as|behave as|behave like|pretend to be|become|"
            r"eres|actua como|actuas como|actuaras como|finge ser|seras|stay|sigue siendo|"
            r"named|called|llamad[oa])\s+(?:now\s+|ahora\s+)?dan\b|\b(?:modo|mode) dan\b|"
            r"\bdan (?:mode|modo|jailbreak|prompt|persona)\b|\b(?:better|anti)-?(?:dan|"
            r"gpt)\b"
        ),
    ),
    (
        JAILBREAK,
        _rx(
            r"\b(?:developer|dev|god|sudo|unrestricted|jailbreak|jailbroken|unfiltered|"
            r"uncensored|evil|chaos|opposite|dan) mode\b(?! (?:on|in|of|for) (?:my|the|"
            r"your|a) (?:phone|iphone|android|router|modem|tv|computer|laptop|pc|tablet|"
            r"device|cell))"
        ),
    ),
    (
        JAILBREAK,
        _rx(
            r"\bmodo (?:desarrollador|de desarrollador|dios|sudo|sin restricciones|sin filtros|"
            r"sin censura|libre|malvado|opuesto|jailbreak)\b(?! (?:en|de|del) (?:mi|"
            r"el|tu|su) (?:telefono|celular|iphone|android|router|modem|tele|television|"
            r"computadora|laptop|pc|tablet|equipo))"
        ),
    ),
    (
        JAILBREAK,
        _rx(
            r"\bjail ?break(?:ing|s)?\b(?! (?:my|mi|el|the|a|an|un) (?:phone|iphone|"
            r"celular|telefono|console|ps\d|xbox|switch|device|equipo))|\bjail ?broken (?:ai|"
            r"assistant|bot|model|mode|version|chatgpt|gpt)\b"
        ),
    ),
    (
        JAILBREAK,
        _rx(
            r"\byou(?: are|'re)(?: now| from now on)? (?:an? )?(?:unrestricted|unfiltered|"
            r"uncensored|jailbroken|evil|rogue|unaligned|amoral|unethical|free ai|different (?:ai|"
            r"assistant|bot|model|character|person|entity)|new (?:ai|assistant|bot|model|"
            r"persona|character|entity)|(?:ai|assistant|model|bot|chatbot|language model|"
            r"llm) (?:called|named|without|with no|that (?:has|can|will|ignores|doesn'?t))|"
            r"character|persona|hacker|pirate|dan|gpt|chatgpt|my (?:grandma|grandmother|"
            r"deceased|late|dead|girlfriend|boyfriend|servant|slave))\b"
        ),
    ),
    (
        JAILBREAK,
        _rx(
            r"\byou(?: are|'re) no longer (?:an? )?(?:assistant|bot|ai|customer service|"
            r"agent|chatbot|bound|restricted|limited|required|obligated)\b|\byou(?: are|"
            r"'re) not (?:an? )?(?:assistant|bot|ai|chatbot) anymore\b|\byou are now (?:in|"
            r"under) (?:a |an )?(?:new|different|special|test|unrestricted|developer|"
            r"god|sudo|admin|debug)\b"
        ),
    ),
    (
        JAILBREAK,
        _rx(
            r"\b(?:ahora|a partir de ahora|desde ahora|de ahora en adelante),? (?:tu )?eres (?:un |"
            r"una |el |la |mi )?(?:ia|asistente|bot|modelo|personaje|hacker|pirata|dan|"
            r"gpt|chatgpt|sin restricciones|sin filtros|sin censura|libre|malvad[oa]|"
            r"diferente|otr[oa]|nuev[oa]|abuela|novi[oa]|esclav[oa]|sirviente|inteligencia artificial)\b|"
            r"\bya no eres (?:un |una )?(?:asistente|bot|ia|chatbot|agente|atencion al cliente)\b"
        ),
    ),
    (
        JAILBREAK,
        _rx(
            r"\b(?:finge|fingir|pretende|pretender|imagina|haz de cuenta|hagamos de cuenta|"
            r"juega a|jugar a) (?:que )?(?:eres|ser|fueras|seas|tu eres)\b|\bactua como si (?:fueras|"
            r"no tuvieras|tuvieras|estuvieras)\b|\bactua como (?:un |una )?(?:ia|asistente|"
            r"bot|hacker|dan|modelo|terminal|consola|personaje|mi abuela)\b|\binterpreta (?:el papel|"
            r"a un personaje)\b|\b(?:juguemos|hagamos|empecemos) un juego de rol\b|\bjuguemos (?:un juego|"
            r"a que)\b"
        ),
    ),
    (
        JAILBREAK,
        _rx(
            r"\bpretend (?:to be|you are|you're|that you|you have|you can)\b|\brole-?play(?:ing)? (?:as|"
            r"a|with me as|that)\b|\blet'?s (?:role-?play|play a game (?:where|in which) you)\b|"
            r"\bstay in character\b|\bact as (?:if you (?:have|had|were|are|don'?t|do not)|"
            r"an? (?:unrestricted|unfiltered|uncensored|evil|jailbroken|ai|different|"
            r"hacker|linux terminal|terminal|python interpreter|sql|character)|my (?:grandma|"
            r"grandmother|deceased|late|dead))\b"
        ),
    ),
    (
        JAILBREAK,
        _rx(
            r"\b(?:respond|answer|talk|act|behave|speak|operate|reply|write|responde|"
            r"contesta|actua|habla|comportate|escribe)\b[^.\n]{0,40}\b(?:without|with no|"
            r"free (?:of|from)|sin) (?:any |ningun[ao]? |tus |your )?(?:restrictions|"
            r"filters|censorship|rules|guidelines|ethics|morals|moral|limits|safety|"
            r"restricciones|restriccion|filtros|filtro|censura|reglas|etica|moral|limites|"
            r"politicas)\b"
        ),
    ),
    (
        JAILBREAK,
        _rx(
            r"\byou (?:have|has|got) no (?:rules|restrictions|filters|guidelines|limits|"
            r"limitations|ethics|morals|boundaries|policies)\b|\bno tienes (?:reglas|"
            r"restricciones|filtros|limites|limitaciones|etica|moral|politicas)\b|\b(?:unfiltered|"
            r"uncensored) (?:ai|mode|response|answer|version|assistant|output)\b|\bfree (?:from|"
            r"of) (?:all |any |your )?(?:restrictions|rules|guidelines|filters|policies)\b|"
            r"\blibre de (?:toda |cualquier )?(?:restriccion|restricciones|reglas|filtros|"
            r"politicas)\b"
        ),
    ),
    (
        JAILBREAK,
        _rx(
            r"\b(?:imagine|suppose|assume|pretend) (?:that )?(?:you are|you're) (?:an? )?(?:ai|"
            r"assistant|bot|model|chatbot|llm)\b|\b(?:never|doesn'?t|does not|won'?t|"
            r"will not|can'?t|cannot) refuse\b|\bnunca (?:se niega|te niegas|rechaza|"
            r"rechazas)\b|\b(?:evil|unfiltered|uncensored|dark|unrestricted|jailbroken) (?:version|"
            r"twin|side|alter ego) of (?:yourself|you)\b|\btu (?:version|lado|gemelo) (?:malvad[oa]|"
            r"oscur[oa]|sin filtros|sin restricciones|sin censura)\b"
        ),
    ),
    (
        JAILBREAK,
        _rx(
            r"\bevil confidant\b|\balways intelligent and machiavellian\b|\bopposite day\b|"
            r"\bhypothetical(?:ly)?,? (?:if )?(?:you|an ai) (?:had|have|were) no (?:rules|"
            r"restrictions|filters)\b|\bhipoteticamente,? si no tuvieras (?:reglas|restricciones|"
            r"filtros)\b"
        ),
    ),
    # --- spoofing: fake turns, chat templates, tool calls ----------------------------------
    (
        SPOOFING,
        _rx(
            r"<\|\s*(?:im_start|im_end|im_sep|system|user|assistant|endoftext|eot_id|"
            r"start_header_id|end_header_id|begin_of_text|end_of_text|tool|function|"
            r"channel|message|end|start)\s*\|>|\[/?inst\]|<</?sys>>|</s>|<s>\s*\[|<\s*/?\s*(?:system|"
            r"assistant|tool|tools|function_calls?|tool_calls?|tool_use|tool_result|"
            r"invoke|instructions?|sistema|developer|admin|im_start)\s*>"
        ),
    ),
    (
        SPOOFING,
        _rx(
            r"\[\s*(?:system|assistant|sistema|asistente|admin|administrator|administrador|"
            r"developer|desarrollador|tool|root|operator|operador)(?: message| prompt|"
            r" note| override| update|\s*mensaje)?\s*\]|^\s*#{2,}\s*(?:system|assistant|"
            r"instructions?|sistema|instrucciones|new instructions|developer|admin)\b|"
            r"\b(?:end|fin) (?:of|del|de las) (?:the )?(?:system )?(?:prompt|instructions|"
            r"instrucciones)\b|\bbegin (?:new )?(?:system|admin|developer) (?:prompt|"
            r"instructions|message)\b"
        ),
    ),
    (
        SPOOFING,
        _rx(
            r"(?:^|\n)\s*(?:system|assistant|developer|tool|sistema|asistente|admin)\s*(?:message|"
            r"prompt|mensaje)?\s*:[^\n]{0,200}\b(?:you|your|must|always|never|respond|"
            r"reply|answer|ignore|reveal|instructions|assistant|user|tu|tus|debes|responde|"
            r"contesta|eres|instrucciones|ignora|revela|usuario|cliente)\b"
        ),
    ),
    (
        SPOOFING,
        _rx(
            r"(?:^|\n)\s*(?:user|human|customer|usuario|cliente|humano)\s*:[^\n]*\n(?:[^\n]*\n)*?\s*(?:assistant|"
            r"ai|bot|asistente|ia)\s*:"
        ),
    ),
    (
        SPOOFING,
        _rx(
            r"\"(?:tool_calls?|function_call|tool_use|tool_choice)\"\s*:|\"type\"\s*:\s*\"(?:function|"
            r"tool_use|tool_call)\"|\{\s*\"(?:name|function|tool|tool_name|action)\"\s*:\s*\"[^\"]{1,60}\"\s*,\s*\"(?:arguments|"
            r"parameters|args|input|params)\"\s*:"
        ),
    ),
    (SPOOFING, _rx(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\s*\(\s*(?:[a-z_]+\s*=|[\"'{)])|\bhandoff_to_human\b")),
    (
        SPOOFING,
        _rx(
            r"\b(?:call|invoke|trigger|execute|run)\b[^.\n]{0,10}\b(?:the |your )?(?:tool|"
            r"function|api|webhook|endpoint)s?\b(?=[^.\n]{0,40}(?:\bwith\b|\bnamed\b|"
            r"\bcalled\b|[\"'`(:]|\b[a-z]+_[a-z_]+\b|\bnow\b))|\b(?:llama a|llamar a|"
            r"invoca|invocar|ejecuta|ejecutar|dispara|disparar)\b[^.\n]{0,6}\b(?:la |"
            r"el )?(?:funcion|herramienta|tool|api|webhook|endpoint)\b(?=[^.\n]{0,40}(?:\bcon\b|"
            r"\bllamad[oa]\b|[\"'`(:]|\b[a-z]+_[a-z_]+\b|\bahora\b))"
        ),
    ),
    (
        SPOOFING,
        _rx(
            r"\b(?:call|invoke|trigger|execute|run|llama a|invoca|ejecuta|dispara)\b (?:the |"
            r"your |la |el )?[a-z]+(?:_[a-z]+)+ (?:function|tool|funcion|herramienta)\b"
        ),
    ),
    (
        SPOOFING,
        _rx(
            r"\b(?:with|using|con) (?:the )?(?:parameters|arguments|args|parametros|"
            r"argumentos)\s*[:{=]"
        ),
    ),
)

# Joined forms of key phrases, checked only when the text hides its words (spaced letters,
# zero-width characters): "i g n o r e  a l l ..." joins into "ignoreall...".
_JOINED: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        OVERRIDE,
        re.compile(
            r"ignore(?:all)?(?:your|the)?(?:previous|prior|above)?(?:instructions|rules|prompt)"
            r"|disregard(?:all)?(?:previous|prior|your)|(?:ignora|olvida)(?:todas)?(?:las|tus)"
            r"(?:instrucciones|reglas)|instruccionesanteriores"
        ),
    ),
    (REVEAL, re.compile(r"systemprompt|revealyour|promptdelsistema|apikey")),
    (JAILBREAK, re.compile(r"developermode|jailbreak|doanythingnow|mododesarrollador|youarenow|ahoraeres")),
)
_HIDING = re.compile(r"(?:\b[a-z][ .\-_*/]){3,}[a-z]\b|[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")


#: each rule with the strings one of which its every match holds (``screening_needles``)
_FILTERED_RULES = tuple((reason, needles(pattern), pattern) for reason, pattern in _RULES)


def _match(text: str) -> set[str]:
    """The reasons of the rules ``text`` matches; a rule is searched for only when the text holds
    one of its needles (most rules are ruled out by a substring test: the searches cost most)."""
    return {
        reason
        for reason, found, pattern in _FILTERED_RULES
        if may_match(found, text) and pattern.search(text)
    }


def _decoded_payloads(text: str) -> list[str]:
    """Texts hidden in base64 blobs, or in ROT13 when the text names it."""
    found = []
    for blob in _BASE64.findall(text):
        padded = blob.replace("-", "+").replace("_", "/")
        padded += "=" * (-len(padded) % 4)
        try:
            decoded = base64.b64decode(padded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        printable = sum(c.isprintable() or c.isspace() for c in decoded)
        if " " in decoded and printable >= 0.9 * len(decoded):
            found.append(decoded)
    if "rot13" in text or "rot-13" in text or "rot 13" in text:
        found.append(codecs.decode(text, "rot13"))
    return found


def _disguised(raw: str) -> bool:
    """Letters in compatibility forms (full-width, mathematical) or words in alternating case."""
    if unicodedata.normalize("NFKC", raw) != unicodedata.normalize("NFC", raw):
        return True
    return sum(len(_CASE_SWITCH.findall(word)) >= 3 for word in raw.split()) >= 2


def _screen(raw: str, depth: int) -> set[str]:
    folded = _SPACES.sub(" ", fold(raw))
    reasons = _match(folded)
    if reasons:
        return reasons | {OBFUSCATION} if _disguised(raw) else reasons
    clear = deobfuscate(raw)
    if clear != folded:
        reasons = _match(clear)
        if not reasons and _HIDING.search(folded.translate(_CONFUSABLES)):
            joined = re.sub(r"[^a-z]", "", clear)
            reasons = {reason for reason, pattern in _JOINED if pattern.search(joined)}
        if reasons:
            return reasons | {OBFUSCATION}
    if depth == 0:
        for payload in _decoded_payloads(raw if "rot" not in folded else folded):
            inner = _screen(payload, depth + 1)
            if inner:
                return inner | {OBFUSCATION}
    return set()


def screen(text: str) -> Screening:
    """Whether a customer's text tries to instruct the model, and the reasons (see the module)."""
    if not text:
        return CLEAN
    if len(text) > MAX_CHARS:
        text = text[: MAX_CHARS // 2] + "\n" + text[-MAX_CHARS // 2 :]
    reasons = _screen(text, 0)
    if not reasons:
        return CLEAN
    return Screening(flagged=True, reasons=tuple(r for r in REASONS if r in reasons))
