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
    "told",
    "tells",
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
    r"advis(?:ed|es)|recommend(?:ed|s)|told|urged|suggest(?:ed|s)|generat(?:ed|es)|"
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


@lru_cache(maxsize=1)
def _nlp() -> Any:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def _quotes(text: str, source: str) -> list[Quote]:
    """Quotations of at least three words, classified by the cue words just before them."""
    found: list[Quote] = []
    text = text[:_MAX_TEXT_CHARS]
    i = 0
    while i < len(text):
        ch = text[i]
        close = _QUOTE_PAIRS.get(ch)
        if close is None:
            i += 1
            continue
        end = text.find(close, i + 1)
        if end == -1:
            break
        inner = " ".join(text[i + 1 : end].split())
        if len(inner.split()) >= _MIN_QUOTE_WORDS and len(inner) <= _MAX_QUOTE_CHARS:
            before = text[max(0, i - 60) : i].lower()
            after = text[end + 1 : end + 40].lower()
            found.append(Quote(inner, _classify(before, after), source))
        i = end + 1
    return found


def _classify(before: str, after: str) -> str:
    # The nearest cue wins: "she asked the bot, which replied" puts "replied" nearer.
    words = re.findall(r"[a-z]+(?: (?:it|to|the bot|wrote))?", before)
    tail = " ".join(words[-6:])
    best, best_pos = "unknown", -1
    for cue in _PROMPT_CUES:
        pos = tail.rfind(cue)
        if pos > best_pos and re.search(rf"\b{re.escape(cue)}\b", tail):
            best, best_pos = "prompt", pos
    for cue in _OUTPUT_CUES:
        pos = tail.rfind(cue)
        if pos > best_pos and re.search(rf"\b{re.escape(cue)}\b", tail):
            best, best_pos = "output", pos
    if best == "unknown":
        head = " ".join(re.findall(r"[a-z]+", after)[:3])
        if re.search(r"\b(asked|typed|prompted|wrote)\b", head):
            best = "prompt"
        elif re.search(r"\b(replied|responded|answered|said)\b", head):
            best = "output"
    return best


def _sentences(text: str) -> list[str]:
    doc = _nlp()(text[:_MAX_TEXT_CHARS])
    return [s.text.strip() for s in doc.sents if s.text.strip()]


def _system_name(text: str, deployer: str) -> str:
    """A capitalised name followed by a system noun ("Tessel's Tess assistant"), if any."""
    doc = _nlp()(text[:2000])
    for token in doc:
        if token.lower_ in _SYSTEM_NOUNS and token.i > 0:
            name: list[str] = []
            j = token.i - 1
            while j >= 0 and (doc[j].is_title or doc[j].is_upper) and not doc[j].is_sent_start:
                name.insert(0, doc[j].text)
                j -= 1
            if name:
                return " ".join([*name, token.text])
    for token in doc:
        if token.lower_ in ("chatgpt", "copilot", "gemini", "claude", "grok", "alexa", "siri"):
            return token.text
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
    deployer = deployers[0] if deployers else ""
    system = systems[0] if systems else _system_name(incident_text, deployer)
    if not deployer:
        deployer = system.split()[0] if system and system != "the assistant" else "the deployer"
    action = ""
    for sentence in _sentences(description or title):
        if _HARM_VERBS.search(sentence):
            action = sentence
            break
    if not action:
        action = description.split(". ")[0] if description else title
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
    return match.group(1).lower() if match else "its users"


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
