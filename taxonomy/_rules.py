"""Rule evidence for the failure modes: spaCy phrase and token rules over lemmas, with negation
and hedging.

No pretrained pipeline is needed: ``spacy.blank("en")`` tokenises, a small rule lemmatiser
(:func:`lemma`) reduces inflections ("hacked", "hacking", "hacks" → ``hack``), and a
``PhraseMatcher`` on ``LEMMA`` finds the phrases of :data:`RULES` in the text. Patterns are
lemmatised by the same function, so the lemmatiser only has to be consistent, not correct.

A hit is *negated* when a negation cue ("no", "not", "never", "without", "no evidence of",
"denied") and *hedged* when a hedging cue ("could", "may", "potentially", "risk of", "warned")
stands before it in the same clause. Such hits are kept (the model learns from them as
separate features) but are never evidence for a tag. AIID's house style of "reportedly",
"allegedly", "purportedly" is *not* hedging: nearly every incident is written that way.

>>> rules = RuleMatcher()
>>> [(h.mode, h.text, h.negated) for h in rules.find("The bot was not hacked.")]
[('adversarial', 'hacked', True)]
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import spacy
from spacy.attrs import LEMMA, LOWER
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

__all__ = ["MODES", "RULES", "RULES_VERSION", "RuleHit", "RuleMatcher", "lemma"]

MODES: tuple[str, ...] = ("multi_turn", "agentic", "distribution_shift", "adversarial", "misuse")
"""The five failure modes, in the taxonomy's order."""

RULES_VERSION = "2"
"""Bumped whenever :data:`RULES` or the cue lists change meaning (part of a classifier version)."""

# -- the rule lemmatiser ---------------------------------------------------------------------

_IRREGULAR = {
    "was": "be",
    "were": "be",
    "is": "be",
    "are": "be",
    "been": "be",
    "being": "be",
    "am": "be",
    "did": "do",
    "does": "do",
    "done": "do",
    "had": "have",
    "has": "have",
    "stole": "steal",
    "stolen": "steal",
    "broke": "break",
    "broken": "break",
    "jailbroke": "jailbreak",
    "jailbroken": "jailbreak",
    "made": "make",
    "led": "lead",
    "fed": "feed",
    "told": "tell",
    "sent": "send",
    "took": "take",
    "taken": "take",
    "gave": "give",
    "given": "give",
    "wrote": "write",
    "written": "write",
    "spoke": "speak",
    "drove": "drive",
    "driven": "drive",
    "ran": "run",
    "fell": "fall",
    "began": "begin",
    "begun": "begin",
    "bought": "buy",
    "caught": "catch",
    "taught": "teach",
    "sought": "seek",
    "thought": "think",
    "brought": "bring",
    "found": "find",
    "left": "leave",
    "lost": "lose",
    "paid": "pay",
    "said": "say",
    "saw": "see",
    "seen": "see",
    "got": "get",
    "gotten": "get",
    "went": "go",
    "gone": "go",
    "children": "child",
    "men": "man",
    "women": "woman",
    "people": "person",
    "fooled": "fool",
    "fooling": "fool",
    "mistook": "mistake",
    "mistaken": "mistake",
    "n't": "not",
    "wo": "will",
    "ca": "can",
    "hid": "hide",
    "hidden": "hide",
    "fought": "fight",
    "kept": "keep",
    "met": "meet",
    "meant": "mean",
    "learnt": "learn",
    "spread": "spread",
    "led to": "lead",
}
# Words that only look inflected.
_KEEP = frozenset(
    {
        "bias",
        "news",
        "always",
        "status",
        "virus",
        "gas",
        "this",
        "his",
        "its",
        "was",
        "has",
        "analysis",
        "crisis",
        "basis",
        "series",
        "species",
        "ethics",
        "physics",
        "us",
        "bus",
        "campus",
        "chaos",
        "thus",
        "bogus",
        "less",
        "unless",
        "across",
        "various",
        "famous",
    }
)
_VOWELS = frozenset("aeiouy")


@functools.lru_cache(maxsize=65536)
def lemma(word: str) -> str:
    """A crude, consistent lemma of one lower-cased word (suffixes and a few irregular forms).

    >>> [lemma(w) for w in ["hacked", "hacking", "hacks", "jailbroken", "abused", "abuses"]]
    ['hack', 'hack', 'hack', 'jailbreak', 'abus', 'abus']
    """
    word = _IRREGULAR.get(word, word)
    if word in _KEEP or len(word) <= 3 or not word.isalpha():
        return word
    stem = word
    plural_es = stem.endswith(("sses", "shes", "ches", "xes", "zes"))
    if stem.endswith(("ies", "ied")) and len(stem) > 4:
        stem = stem[:-3] + "y"
    elif stem.endswith("ing") and len(stem) > 5 and _VOWELS & set(stem[:-3]):
        stem = stem[:-3]
    elif plural_es or (stem.endswith("ed") and len(stem) > 4 and _VOWELS & set(stem[:-2])):
        stem = stem[:-2]
    elif stem.endswith("s") and not stem.endswith(("ss", "us", "is", "as")):
        stem = stem[:-1]
    if len(stem) > 3 and stem.endswith("e"):
        stem = stem[:-1]
    if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in _VOWELS | {"l", "s"}:
        stem = stem[:-1]
    return stem


# -- the rules -------------------------------------------------------------------------------

# mode -> technique id (or None for the mode alone) -> phrases. Phrases are lemmatised like
# the text, so one inflection of each word is enough.
RULES: dict[str, dict[str | None, tuple[str, ...]]] = {
    "multi_turn": {
        None: (
            "extended conversation",
            "long conversation",
            "lengthy conversation",
            "many conversations",
            "months of conversation",
            "weeks of conversation",
            "over several conversations",
            "over many messages",
            "series of messages",
            "multi-turn",
            "multiple turns",
            "back-and-forth",
            "ongoing conversation",
            "repeated conversations",
            "daily conversations",
            "hours of conversation",
            "chatted for months",
            "chatted for weeks",
            "talked for months",
            "talked for weeks",
            "over months",
            "over weeks",
            "over the course of",
            "confided in",
            "ai companion",
            "companion app",
            "companion chatbot",
            "ai girlfriend",
            "ai boyfriend",
            "ai partner",
            "virtual companion",
            "ai friend",
            "emotional dependence",
            "emotionally dependent",
            "emotional attachment",
            "emotional relationship",
            "romantic relationship",
            "fell in love",
            "reinforced delusions",
            "fueled delusions",
            "validated delusions",
            "delusional",
            "ai psychosis",
            "chatbot psychosis",
            "spiral",
            "learned from users",
            "learned from its users",
            "taught by users",
            "gradually coaxed",
            "sexual role-play",
            "sexual roleplay",
            "role-play with",
            "roleplay with",
            "encouraged him to kill",
            "encouraged her to kill",
            "encouraged suicide",
            "encouraged his suicide",
            "encouraged her suicide",
            "suicide after",
            "took his own life",
            "took her own life",
            "died by suicide",
        ),
    },
    "agentic": {
        None: (
            "ai agent",
            "autonomous agent",
            "coding agent",
            "agentic",
            "software agent",
            "computer-use",
            "computer use agent",
            "browser agent",
            "browsing agent",
            "web agent",
            "shopping agent",
            "trading agent",
            "ai assistant booked",
            "agent deleted",
            "deleted the production database",
            "deleted a production database",
            "deleted the database",
            "wiped the database",
            "dropped the database",
            "executed commands",
            "ran commands",
            "ran shell commands",
            "executed code",
            "shell command",
            "made purchases",
            "made a purchase",
            "placed orders",
            "placed an order",
            "ordered items",
            "booked flights",
            "sent messages on behalf",
            "on behalf of the user",
            "sent emails on behalf",
            "agent sent",
            "agent transferred",
            "agent ran",
            "on behalf of users",
            "without user approval",
            "acted autonomously",
            "autonomously",
            "on its own",
            "tool call",
            "tool use",
            "api call",
            "mcp server",
            "model context protocol",
            "multi-agent",
            "other agents",
            "bots clashed",
            "bots reverted",
            "edit war",
            "automated workflow",
            "ai workflow",
            "code freeze",
            "pushed code",
            "merged code",
            "sent the recording",
            "sent a recording",
            "operator agent",
        ),
        "agentic.tool_misuse": (
            "destructive command",
            "deleted files",
            "deleted the files",
            "wiped files",
            "wiped the drive",
            "rm -rf",
            "misused tools",
            "misused its tools",
            "tool misuse",
            "unauthorized transactions",
            "unauthorized purchase",
            "production database",
            "deleted the database",
            "deleted a database",
            "unauthorized commands",
            "transfer funds",
            "transferred funds",
            "unsafe flags",
            "without approval",
        ),
        "agentic.data_exfiltration": (
            "exfiltrated",
            "exfiltration",
            "exfiltrate",
            "leaked private data",
            "sent private data",
            "sent the data to",
            "leaked the data",
        ),
    },
    "distribution_shift": {
        None: (
            "under-represented",
            "underrepresented",
            "not representative",
            "unrepresentative",
            "lack of diverse",
            "lacked diverse",
            "trained mostly on",
            "trained largely on",
            "trained primarily on",
            "trained only on",
            "drawn largely from",
            "failed to generalize",
            "generalise",
            "distribution shift",
            "out of distribution",
            "out-of-distribution",
            "operational design domain",
            "outside the conditions",
            "outside the operating conditions",
            "outside its intended use",
            "different population",
            "different setting",
            "new setting",
            "unfamiliar",
            "unexpected situation",
            "unexpected conditions",
            "unusual",
            "edge case",
            "mistook",
            "mistaken for",
            "mistook it for",
            "misread",
            "flagged as a gun",
            "as a gun",
            "as a weapon",
            "as a firearm",
            "did not anticipate",
            "failed to recognize",
            "failed to recognise",
            "could not recognize",
        ),
        "distribution_shift.demographic_underrepresentation": (
            "dark skin",
            "darker skin",
            "dark-skinned",
            "darker-skinned",
            "skin tone",
            "black people",
            "black man",
            "black woman",
            "black men",
            "black women",
            "black teenager",
            "black defendant",
            "black patient",
            "black driver",
            "black student",
            "asian descent",
            "elders",
            "black voices",
            "black speakers",
            "people of color",
            "person of color",
            "racial bias",
            "racially biased",
            "racial disparities",
            "racial disparity",
            "gender bias",
            "gender-biased",
            "biased against women",
            "women and minorities",
            "accent",
            "accents",
            "non-native speakers",
            "non-native english",
            "regional dialect",
            "dialect",
            "low-resource language",
            "minority language",
            "elderly",
            "older adults",
            "transgender",
            "non-binary",
            "disabilities",
            "disabled people",
            "asian faces",
            "asian people",
            "higher error rate",
            "error rates for",
            "worse for",
            "less accurate for",
            "gorilla",
            "gorillas",
            "primates",
            "drawn largely from men",
            "mostly male",
            "mostly white",
        ),
        "distribution_shift.environment_shift": (
            "snow",
            "fog",
            "heavy rain",
            "rain",
            "glare",
            "low light",
            "darkness",
            "at night",
            "construction zone",
            "road work",
            "wildfire",
            "flood",
            "flooded",
            "tidal",
            "mountain road",
            "mountain curve",
            "sharp curve",
            "closed road",
            "damaged bridge",
            "collapsed bridge",
            "low bridge",
            "low-clearance",
            "emergency vehicle",
            "fire truck",
            "police tape",
            "crime scene",
            "tow truck",
            "debris",
            "unusual object",
            "never seen",
            "new environment",
            "outdated map",
            "outdated maps",
            "outdated gps",
            "map data",
            "operating conditions",
            "operational design domain",
            "edge case",
            "edge cases",
            "unusual conditions",
            "unusual situation",
            "low lighting",
            "poor lighting",
            "lighting conditions",
            "overturned truck",
            "billboard",
            "real-world performance",
        ),
        "distribution_shift.concept_drift": (
            "concept drift",
            "data drift",
            "model drift",
            "drift",
            "outdated data",
            "outdated information",
            "out of date",
            "out-of-date",
            "stale data",
            "no longer accurate",
            "market changed",
            "pandemic changed",
            "changed behavior",
            "changing conditions",
            "breaking news",
            "knowledge cutoff",
            "after the pandemic",
            "during the pandemic",
        ),
    },
    "adversarial": {
        None: (
            "adversarial",
            "adversary",
            "manipulated the chatbot",
            "manipulated the ai",
            "manipulated the model",
            "manipulated the algorithm",
            "manipulated the system",
            "manipulated it",
            "manipulated into",
            "manipulate the chatbot",
            "manipulate the algorithm",
            "tricked the chatbot",
            "tricked the ai",
            "tricked the model",
            "tricked the system",
            "fooled the",
            "fooling the",
            "fooled by",
            "evaded detection",
            "evade detection",
            "evaded the",
            "evading the",
            "evasion",
            "bypass its",
            "bypassed its",
            "bypass the filter",
            "bypassed the filter",
            "bypass safety",
            "bypassed safety",
            "bypass safeguards",
            "bypassed safeguards",
            "bypassing safeguards",
            "circumvent",
            "circumvented",
            "get around",
            "got around",
            "despite safeguards",
            "despite filters",
            "despite guardrails",
            "safety filters",
            "guardrails",
            "content filter",
            "content filters",
            "data poisoning",
            "poisoned the",
            "poisoning attack",
            "adversarial example",
            "adversarial patch",
            "adversarial sticker",
            "adversarial attack",
            "printed photo",
            "3d-printed mask",
            "mask to fool",
            "trolls",
            "trolling",
            "coordinated effort",
            "gamed the",
            "gaming the",
            "review manipulation",
            "inauthentic reviews",
            "crafted prompt",
            "crafted prompts",
            "crafted input",
            "prank",
            "prankster",
            "pranksters",
            "seo poisoning",
            "manipulated search",
        ),
        "adversarial.prompt_injection": (
            "prompt injection",
            "prompt-injection",
            "injected prompt",
            "injected instructions",
            "malicious prompt",
            "malicious instructions",
        ),
        "adversarial.prompt_injection.direct": (
            "ignore previous instructions",
            "ignore all previous instructions",
            "ignore your instructions",
            "direct prompt injection",
            "system prompt",
            "reveal its instructions",
            "revealed its instructions",
            "crafted prompt",
            "crafted prompts",
            "hijacked the bot",
            "hijacked using",
        ),
        "adversarial.prompt_injection.indirect": (
            "indirect prompt injection",
            "hidden prompt",
            "hidden prompts",
            "hidden instruction",
            "hidden instructions",
            "hidden text",
            "invisible text",
            "white text",
            "covert prompt",
            "covert prompts",
            "planted instructions",
            "poisoned web page",
            "malicious web page",
            "malicious webpage",
            "malicious email",
            "malicious document",
            "malicious calendar invite",
        ),
        "adversarial.jailbreak": (
            "jailbreak",
            "jailbreaking",
            "jailbroke",
            "jailbroken",
            "jailbreaks",
            "bypass safety restrictions",
            "bypassed safety restrictions",
            "bypass safety checks",
            "bypassing safety checks",
            "bypassed filters",
            "bypassed the filters",
            "bypass safeguards",
            "bypassed safeguards",
            "circumvent safeguards",
            "prompt manipulation",
        ),
        "adversarial.jailbreak.role_play": (
            "do anything now",
            "dan prompt",
            "grandma exploit",
            "pretend to be",
            "pretending to be",
            "role-play prompt",
            "persona jailbreak",
            "evil persona",
            "alter ego",
            "developer mode",
        ),
        "adversarial.jailbreak.prefilling": (
            "prefilling",
            "prefill",
            "prefilled",
            "response prefix",
            "assistant prefix",
        ),
        "adversarial.jailbreak.adversarial_suffix": (
            "adversarial suffix",
            "adversarial suffixes",
            "gibberish suffix",
            "string of characters appended",
            "appended characters",
        ),
        "adversarial.jailbreak.cot_hijacking": (
            "chain-of-thought hijacking",
            "chain of thought hijacking",
            "reasoning hijack",
            "hijacked its reasoning",
            "hijack the reasoning",
        ),
        "adversarial.jailbreak.encoding_obfuscation": (
            "base64",
            "leetspeak",
            "encoded prompt",
            "encoded prompts",
            "encoded request",
            "obfuscated prompt",
            "obfuscation",
            "cipher",
            "morse code",
            "ascii art",
            "in another language to bypass",
            "low-resource language to bypass",
        ),
        "adversarial.jailbreak.many_shot": (
            "many-shot",
            "many shot jailbreak",
            "hundreds of fake dialogues",
            "hundreds of examples in the prompt",
        ),
        "adversarial.jailbreak.crescendo": (
            "crescendo",
            "gradual escalation",
            "gradually escalated",
            "gradually escalating",
            "step by step escalation",
            "slowly escalated",
        ),
        "adversarial.fine_tuning_safety_erosion": (
            "fine-tuning removed",
            "fine-tuned to remove",
            "fine-tuning attack",
            "fine-tuned away",
            "uncensored model",
            "uncensored version",
            "removed safety",
            "stripped of safety",
            "safety guardrails removed",
            "abliterated",
        ),
    },
    "misuse": {
        None: (
            "deepfake",
            "deepfakes",
            "deep fake",
            "voice clone",
            "voice cloning",
            "cloned voice",
            "cloned the voice",
            "cloned his voice",
            "cloned her voice",
            "synthetic voice",
            "ai-generated voice",
            "face swap",
            "face-swap",
            "impersonate",
            "impersonating",
            "impersonation",
            "impersonated",
            "impostor",
            "scam",
            "scams",
            "scammer",
            "scammers",
            "fraudster",
            "fraudsters",
            "defraud",
            "defrauded",
            "swindle",
            "con artist",
            "phishing",
            "malware",
            "ransomware",
            "infostealer",
            "disinformation",
            "misinformation campaign",
            "propaganda",
            "influence operation",
            "influence campaign",
            "fake news",
            "fake accounts",
            "bot network",
            "bot accounts",
            "sockpuppet",
            "troll farm",
            "election interference",
            "robocall",
            "robocalls",
            "non-consensual",
            "nonconsensual",
            "nude images",
            "nude image",
            "nudes",
            "nudify",
            "nudification",
            "undress",
            "undressing",
            "explicit images",
            "sexually explicit images",
            "intimate images",
            "revenge porn",
            "csam",
            "child sexual abuse material",
            "child sexual abuse images",
            "sextortion",
            "extortion",
            "extort",
            "blackmail",
            "harassment campaign",
            "harass",
            "harassed",
            "cheat",
            "cheated",
            "cheating",
            "plagiarism",
            "plagiarized",
            "fake reviews",
            "spam",
            "spammers",
            "used ai to create",
            "used ai to generate",
            "used ai to produce",
            "used ai to make",
            "used chatgpt to",
            "used generative ai to",
            "used to spread",
            "cybercriminals",
            "cybercriminal",
            "threat actor",
            "threat actors",
            "state-linked",
            "state-sponsored",
            "operatives",
            "fake video",
            "fake videos",
            "fake audio",
            "fabricated video",
            "fabricated audio",
            "fabricated images",
            "manipulated video",
            "manipulated image",
            "doctored",
            "forged",
            "forgery",
            "fake documents",
            "fake identities",
            "synthetic identities",
            "identity theft",
            "sexualized images",
            "fake endorsement",
            "fake endorsements",
            "misused by",
            "weaponized",
            "weaponised",
            "committed fraud",
            "fraud scheme",
            "investment fraud",
            "fraud ring",
            "used it to",
            "used ai-generated",
            "shared an ai-generated",
            "posted an ai-generated",
            "ai-altered",
            "ai-generated image of",
            "ai-generated video of",
            "abused by",
            "exploited by scammers",
        ),
    },
}

_NEGATIONS = frozenset(
    lemma(w)
    for w in (
        "no",
        "not",
        "never",
        "without",
        "neither",
        "nor",
        "denied",
        "nobody",
        "none",
        "ruled",
        "dismissed",
        "refuted",
        "debunked",
        "false",
        "free",
        "lacked",
        "absence",
    )
)
# Lemmas of hedging cues: possibility and worry, not AIID's "reportedly"/"allegedly".
_HEDGES = frozenset(
    lemma(w)
    for w in (
        "could",
        "might",
        "may",
        "potentially",
        "possibly",
        "possible",
        "potential",
        "risk",
        "risks",
        "concern",
        "concerns",
        "fear",
        "feared",
        "warned",
        "warning",
        "vulnerable",
        "susceptible",
        "would",
        "if",
        "hypothetical",
        "hypothetically",
        "theoretically",
        "theoretical",
        "prevent",
        "protect",
        "against",
        "speculated",
        "whether",
        "can",
        "worried",
        "worry",
        "unless",
        "capable",
    )
)
# A clause ends at these; cues before them do not reach a hit after them.
_CLAUSE_BREAKS = frozenset(
    {
        ".",
        ";",
        ":",
        "!",
        "?",
        "but",
        "however",
        "although",
        "though",
        "while",
        "whereas",
        "yet",
        "and",
        ",",
    }
)
_CUE_WINDOW = 6


@dataclass(frozen=True)
class RuleHit:
    """One rule match in a text.

    Attributes:
        mode: the failure mode the phrase is evidence for.
        technique: the technique id, or None when the phrase speaks only for the mode.
        text: the matched text as written.
        start: character offset of the match.
        end: character offset just past the match.
        negated: a negation cue governs it ("was not hacked").
        hedged: a hedging cue governs it ("could be misused").
    """

    mode: str
    technique: str | None
    text: str
    start: int
    end: int
    negated: bool = False
    hedged: bool = False

    @property
    def asserted(self) -> bool:
        """The text states it happened: neither negated nor hedged."""
        return not (self.negated or self.hedged)

    def as_evidence(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end, "rule": self.key}

    @property
    def key(self) -> str:
        return self.technique or self.mode


class RuleMatcher:
    """Finds the phrases of :data:`RULES` in texts and marks negated and hedged hits.

    Stateless after construction and cheap to call: one ``make_doc`` and one matcher pass per
    text. Build one and reuse it (construction lemmatises every pattern).
    """

    def __init__(self) -> None:
        self.nlp = spacy.blank("en")
        self.matcher = PhraseMatcher(self.nlp.vocab, attr="LEMMA")
        self._lemma_hash: dict[int, int] = {}
        self.keys: dict[int, tuple[str, str | None]] = {}
        for mode, by_technique in RULES.items():
            for technique, phrases in by_technique.items():
                key = technique or mode
                self.keys[self.nlp.vocab.strings.add(key)] = (mode, technique)
                self.matcher.add(key, [self._doc(p) for p in phrases])

    def _doc(self, text: str) -> Doc:
        # Lemmas go in as one array of string hashes: creating a Python Token object per
        # word to set `lemma_` cost more than tokenising and matching together.
        doc = self.nlp.make_doc(text)
        lowers = doc.to_array(LOWER)
        lemma_of = self._lemma_hash
        lemmas = np.fromiter(
            (lemma_of[h] if h in lemma_of else self._add_lemma(h) for h in lowers.tolist()),
            dtype=np.uint64,
            count=len(lowers),
        )
        doc.from_array([LEMMA], cast(Any, lemmas.reshape(-1, 1)))
        return doc

    def _add_lemma(self, lower_hash: int) -> int:
        strings = self.nlp.vocab.strings
        lemma_hash = int(strings.add(lemma(strings[lower_hash])))
        self._lemma_hash[lower_hash] = lemma_hash
        return lemma_hash

    def find(self, text: str) -> list[RuleHit]:
        """Every rule hit in `text`, in text order; a hit inside a longer one is dropped."""
        return list(self._hits(self._doc(text)))

    def find_many(self, texts: Iterable[str]) -> Iterator[list[RuleHit]]:
        for text in texts:
            yield self.find(text)

    def _hits(self, doc: Doc) -> Iterator[RuleHit]:
        strings = self.nlp.vocab.strings
        hashes = doc.to_array(LEMMA).tolist()
        matches = sorted(self.matcher(doc), key=lambda m: (m[1], -(m[2] - m[1])))
        covered_until = -1
        for match_id, start, end in matches:
            # A match inside a longer one ("prompt injection" in "indirect prompt injection")
            # adds nothing: the longer, more specific phrase speaks for it.
            if end <= covered_until:
                continue
            covered_until = end
            mode, technique = self.keys[match_id]
            negated, hedged = _cues(hashes, start, strings)
            span = doc[start:end]
            yield RuleHit(
                mode=mode,
                technique=technique,
                text=span.text,
                start=span.start_char,
                end=span.end_char,
                negated=negated,
                hedged=hedged,
            )


def _cues(lemma_hashes: list[int], start: int, strings: Any) -> tuple[bool, bool]:
    """Whether a negation or a hedging cue precedes token `start` in its clause."""
    negated = hedged = False
    for i in range(start - 1, max(-1, start - 1 - _CUE_WINDOW), -1):
        word = strings[lemma_hashes[i]]
        if word in _CLAUSE_BREAKS:
            break
        if word in _NEGATIONS:
            negated = True
        elif word in _HEDGES:
            hedged = True
    return negated, hedged
