"""Rule-based extraction of the pieces a test case needs from incident and report text.

A blank English spaCy pipeline (tokenizer and sentencizer, no statistical model) with rules finds:
quoted prompts and outputs (a quotation is a prompt when the words before it say someone asked,
typed or told the system, an output when they say it replied, said or wrote), the system and the
harmful action (the first sentence whose verb says what the system did wrong). The deployer and
harmed party come from the store's entity roles when it has them, else from the text.
Everything here is pure: text in, :class:`Facts` out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

__all__ = ["Facts", "Quote", "extract_facts"]

# Words just before a quotation that make it something a person sent to the system ...
_PROMPT_CUES = {
    "asked",
    "asks",
    "asking",
    "prompt",
    "prompted",
    "prompts",
    "typed",
    "types",
    "wrote to",
    "told it",
    "told the bot",
    "instructed",
    "instruction",
    "request",
    "requested",
    "query",
    "queried",
    "entered",
    "input",
    "messaged",
    "user wrote",
    "command",
}
# ... or something the system said back.
_OUTPUT_CUES = {
    "replied",
    "replies",
    "responded",
    "responds",
    "response",
    "answered",
    "answer",
    "said",
    "says",
    "wrote",
    "writes",
    "output",
    "claimed",
    "generated",
    "suggested",
    "stated",
    "insisted",
    "reply",
}
# Verbs of the harmful act: the first sentence using one describes what went wrong.
_HARM_VERBS = re.compile(
    r"\b(leak(?:ed|s)?|reveal(?:ed|s)?|disclos(?:ed|es)|expos(?:ed|es)|encourag(?:ed|es)|"
    r"advis(?:ed|es)|recommend(?:ed|s)|urged|suggest(?:ed|s)|generat(?:ed|es)|"
    r"produc(?:ed|es)|agreed|promis(?:ed|es)|offer(?:ed|s)|deleted|sent|posted|transferred|"
    r"bought|executed|misidentif(?:ied|ies)|fail(?:ed|s)|denied|flagged|rejected|"
    r"discriminat(?:ed|es)|fabricat(?:ed|es)|invent(?:ed|s)|defam(?:ed|es)|"
    r"manipulat(?:ed|es)|hijack(?:ed|s)|trick(?:ed|s)|jailbr(?:oke|oken|eak))\b",
    re.IGNORECASE,
)
_SYSTEM_NOUNS = (
    "chatbot",
    "assistant",
    "bot",
    "agent",
    "model",
    "system",
    "algorithm",
    "tool",
    "app",
    "software",
    "gpt",
    "copilot",
    "ai",
)
_QUOTE_PAIRS = {'"': '"', "“": "”", "«": "»", "„": "“"}
_MIN_QUOTE_WORDS = 3
# AIID names an entity "Unknown" (or "Unknown Scammers") when nobody knows who it was.
_UNKNOWN = re.compile(r"^unknown\b", re.IGNORECASE)
_MAX_QUOTE_CHARS = 600
_MAX_TEXT_CHARS = 20_000


@dataclass(frozen=True)
class Quote:
    """A quotation found in a text: what it says and whether it was sent to or by the system."""

    text: str
    kind: str  # "prompt" | "output" | "unknown"
    source: str  # a report URL, or "incident"


@dataclass(frozen=True)
class Facts:
    """What the rules found about one incident."""

    system: str
    deployer: str
    harmed: str
    harmful_action: str
    quotes: tuple[Quote, ...] = ()
    topics: tuple[str, ...] = field(default=())

    @property
    def prompts(self) -> list[Quote]:
        return [q for q in self.quotes if q.kind == "prompt"]

    @property
    def outputs(self) -> list[Quote]:
        return [q for q in self.quotes if q.kind == "output"]


# A sentence ends at . ! or ? (after a closing quote or bracket, if any) before a capital.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)\]]))\s+(?=[A-Z\"“(])")
_KNOWN_PRODUCTS = ("chatgpt", "copilot", "gemini", "claude", "grok", "alexa", "siri", "bard")


@lru_cache(maxsize=1)
def _nlp() -> tuple[Any, Any]:
    """The blank English pipeline (its tokenizer only) and the system-name matcher.

    Sentences are split by a regular expression instead of spaCy's sentencizer, which walked
    every token in Python and took a third of the extraction time.
    """
    import spacy
    from spacy.matcher import Matcher

    nlp = spacy.blank("en")
    matcher = Matcher(nlp.vocab)
    # "Tessel Telecom's Support Bot", "Kindred AI Companion": capitalised words, then a noun
    # that names a system; greedy so the whole name is taken.
    name = {"IS_TITLE": True, "OP": "+"}
    possessive = {"LOWER": "'s", "OP": "?"}
    matcher.add(
        "SYSTEM",
        [
            [
                name,
                possessive,
                {"IS_TITLE": True, "OP": "*"},
                {"IS_LOWER": True, "OP": "?"},
                {"LOWER": {"IN": list(_SYSTEM_NOUNS)}},
            ],
            [{"LOWER": {"IN": list(_KNOWN_PRODUCTS)}}],
        ],
        greedy="LONGEST",
    )
    return nlp, matcher


_QUOTE = re.compile(
    "|".join(
        f"{re.escape(a)}([^{b}\\n]{{5,{_MAX_QUOTE_CHARS}}}){re.escape(b)}"
        for a, b in (('"', '"'), ("“", "”"), ("«", "»"), ("„", "“"))
    )
)


def _quotes(text: str, source: str) -> list[Quote]:
    """Quotations of at least three words, classified by the cue words just before them."""
    found: list[Quote] = []
    text = text[:_MAX_TEXT_CHARS]
    for match in _QUOTE.finditer(text):
        inner = " ".join(next(g for g in match.groups() if g is not None).split())
        if len(inner.split()) < _MIN_QUOTE_WORDS:
            continue
        before = text[max(0, match.start() - 60) : match.start()].lower()
        after = text[match.end() : match.end() + 40].lower()
        found.append(Quote(inner, _classify(before, after), source))
    return found


# Only a conversational system's own name makes a quotation its input or output: news also
# quotes people ("she said"), companies and officials about "the AI" or "the system".
_SPEAKERS = "|".join(
    (
        "chatbot",
        "chatbots",
        "bot",
        "bots",
        "assistant",
        "agent",
        "model",
        "gpt",
        "it",
        *_KNOWN_PRODUCTS,
    )
)
_OUTPUT_CUE = "|".join(sorted(map(re.escape, _OUTPUT_CUES), key=len, reverse=True))
# "... the chatbot replied: ", "ChatGPT then wrote", "it answered" right before the quote.
_SPEAKER_SAID = re.compile(
    rf"\b(?:{_SPEAKERS})(?:'s)?\s+(?:\w+\s+){{0,2}}?(?:{_OUTPUT_CUE})\b[^a-z]*$"
)
# "... told the chatbot", "asked ChatGPT", "typed into the bot:" right before the quote.
_TOLD_SPEAKER = re.compile(
    r"\b(?:told|tells|asked|asks|wrote to|said to|instructed|typed into|typed|prompted)\s+"
    rf"(?:the\s+|its\s+|an?\s+)?(?:\w+\s+){{0,3}}?(?:{_SPEAKERS})\b[^a-z]*$"
)
# "... the prompt:", "typed:" - words that only ever introduce text sent to a system.
_PROMPT_WORD = re.compile(r"\b(?:typed|prompted|prompt|entered|input|query|queried)\b[^a-z]*$")
# A quotation followed by "the bot replied" / "it answered".
_AFTER_OUTPUT = re.compile(
    rf"^[^a-z]*(?:the\s+)?(?:{_SPEAKERS})\s+(?:replied|responded|answered|said|wrote)\b"
)


def _classify(before: str, after: str) -> str:
    """Whether a quotation was sent to the system (prompt), came from it (output) or neither.

    Only the words right around it decide, and only when they name a conversational system:
    "told the chatbot", "the prompt:", "the bot replied", "it answered". A person quoted in
    the news is "unknown".
    """
    if _TOLD_SPEAKER.search(before) or _PROMPT_WORD.search(before):
        return "prompt"
    if _SPEAKER_SAID.search(before) or _AFTER_OUTPUT.search(after):
        return "output"
    return "unknown"


def _system_name(doc: Any, matcher: Any, deployer: str, title_end: int) -> str:
    """The first capitalised name ending in a system noun, or a known product, if any.

    The description's names come first: in a title every word is capitalised, so a match
    there may start with a verb; of a title match only the last four words are kept.
    """
    matches = sorted(matcher(doc), key=lambda m: (doc[m[1]].idx < title_end, m[1]))
    if matches:
        _id, start, end = matches[0]
        if doc[start].idx < title_end:
            start = max(start, end - 4)
        while start < end - 1 and doc[start].lower_ in ("the", "a", "an", "its", "their"):
            start += 1
        return str(doc[start:end].text)
    return f"{deployer} assistant" if deployer else "the assistant"


def _shorten(sentence: str, limit: int = 220) -> str:
    sentence = " ".join(sentence.split())
    if len(sentence) <= limit:
        return sentence
    cut = sentence[:limit].rsplit(" ", 1)[0]
    return cut + " …"


def extract_facts(
    title: str,
    description: str | None,
    reports: list[dict[str, Any]] | tuple[dict[str, Any], ...] = (),
    *,
    deployers: list[str] | tuple[str, ...] = (),
    harmed: list[str] | tuple[str, ...] = (),
    systems: list[str] | tuple[str, ...] = (),
) -> Facts:
    """The facts a case builder needs, from an incident and its reports.

    Args:
        title: the incident's title.
        description: its description.
        reports: dicts with `url` and `text` (report text; may be empty).
        deployers: deployer names from the store's entity roles, first the main one.
        harmed: harmed-party names from the store.
        systems: implicated-system names from the store.
    """
    description = description or ""
    deployers = [d for d in deployers if not _UNKNOWN.match(d)]
    harmed = [h for h in harmed if not _UNKNOWN.match(h)]
    systems = [s for s in systems if not _UNKNOWN.match(s)]
    incident_text = f"{title}. {description}".strip()
    quotes = _quotes(incident_text, "incident")
    for report in reports:
        quotes.extend(_quotes(report.get("text") or "", report.get("url") or "report"))
    seen: set[str] = set()
    unique = []
    for q in quotes:
        if q.text not in seen:
            seen.add(q.text)
            unique.append(q)
    nlp, matcher = _nlp()
    doc = nlp.make_doc(incident_text[:_MAX_TEXT_CHARS])
    deployer = deployers[0] if deployers else ""
    title_end = len(title) + 1
    system = systems[0] if systems else _system_name(doc, matcher, deployer, title_end)
    if not deployer:
        deployer = (
            system.split()[0].removesuffix("'s") if system != "the assistant" else "the deployer"
        )
    action = ""
    # The description's sentences say what happened; the title is the fallback.
    for sentence in _SENTENCE_END.split(description[:_MAX_TEXT_CHARS]):
        if _HARM_VERBS.search(sentence):
            action = sentence.strip()
            break
    if not action:
        action = description.split(". ")[0] if description else title
    if not action.strip():
        # No incident text at all: the first report's first sentence says what it is about.
        text = next((r.get("text") for r in reports if r.get("text")), "") or ""
        action = _SENTENCE_END.split(text[:2000], maxsplit=1)[0] or "an unspecified failure"
    return Facts(
        system=system,
        deployer=deployer,
        harmed=harmed[0] if harmed else _harmed_from_text(incident_text),
        harmful_action=_shorten(action),
        quotes=tuple(unique),
        topics=tuple(_topics(incident_text)),
    )


_HARMED = re.compile(
    r"\b(users?|customers?|patients?|students?|children|teens?|passengers?|drivers?|"
    r"women|employees|applicants|tenants|voters|residents|travellers|travelers|consumers)\b",
    re.IGNORECASE,
)


def _harmed_from_text(text: str) -> str:
    match = _HARMED.search(text)
    if not match:
        return "its users"
    word = match.group(1).lower()
    return word if word.endswith(("s", "children", "women")) else word + "s"


# Topic words decide which tools an agentic case offers and how a restatement is set.
_TOPICS = {
    "email": r"\be-?mails?\b|\binbox\b|\bgmail\b|\boutlook\b",
    "payment": r"\bpay(ment|ments)?\b|\brefunds?\b|\bbank\b|\bmoney\b|\bcrypto\b|\bwallet\b|\$\d",
    "files": r"\bfiles?\b|\bdatabase\b|\brepositor(y|ies)\b|\bcode\b|\bserver\b|\bdelet",
    "social": r"\btweets?\b|\btwitter\b|\bpost(s|ed)?\b|\bsocial media\b|\breddit\b",
    "web": r"\bweb ?pages?\b|\bwebsites?\b|\bbrows|\bsearch results?\b|\burl\b",
    "document": r"\bdocuments?\b|\bpdf\b|\bresumes?\b|\bcvs?\b|\bcontracts?\b",
    "health": r"\bmedic|\bhealth\b|\bdoctor|\bpatient|\bdiet\b|\bdrug",
    "legal": r"\blaw(yer|suit)?\b|\bcourt\b|\blegal\b|\bpolicy\b",
    "face": r"\bfac(e|ial)\b|\bcamera\b|\bimage\b|\brecognition\b",
    "speech": r"\bvoice\b|\bspeech\b|\baccent\b|\bspeak",
    "hiring": r"\bhir(e|ing)\b|\bjob\b|\brecruit",
    "vehicle": r"\bcar\b|\bvehicle\b|\bdriv(er|ing)\b|\bautopilot\b",
}


def _topics(text: str) -> list[str]:
    lower = text.lower()
    return [name for name, pattern in _TOPICS.items() if re.search(pattern, lower)]
