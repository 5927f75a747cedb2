"""The failure-mode taxonomy as data: modes, techniques and their crosswalk to public taxonomies.

The taxonomy ships as ``data/taxonomy/failure_modes.<version>.json`` and is validated on load.
Node ids are stable within a version (classifiers and stored labels refer to them); a change of
meaning is a new file, ``failure_modes.v2.json``, never an edit of a released one.

>>> from taxonomy import load_taxonomy
>>> taxonomy = load_taxonomy()
>>> [entry.code for entry in taxonomy.crosswalk("adversarial.prompt_injection.direct", "atlas")]
['AML.T0051.000', 'AML.T0056']
>>> taxonomy.from_external("avid", "P0102")
['distribution_shift.concept_drift']
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal, cast, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from incidentdb import IncidentDBError, NotFoundError
from incidentdb._data import bundled_data

__all__ = ["SCHEMES", "CrosswalkEntry", "Node", "SchemeInfo", "Taxonomy", "load_taxonomy"]

Scheme = Literal["atlas", "owasp-llm", "owasp-asi", "mit", "avid", "gmf"]
SCHEMES: tuple[str, ...] = get_args(Scheme)
"""The public taxonomies a node can be crosswalked to."""

Match = Literal["exact", "broad", "narrow", "related"]

# What a well-formed code looks like in each scheme, and how to say so in an error message.
_CODE_FORMS: dict[str, tuple[re.Pattern[str], str]] = {
    "atlas": (re.compile(r"AML\.T\d{4}(\.\d{3})?"), "AML.T#### or AML.T####.###"),
    "owasp-llm": (re.compile(r"LLM(0[1-9]|10)"), "LLM01 ... LLM10"),
    "owasp-asi": (re.compile(r"ASI(0[1-9]|10)"), "ASI01 ... ASI10"),
    "mit": (re.compile(r"[1-7]\.[1-9]"), "a subdomain number such as 2.2"),
    "avid": (re.compile(r"[SPE]\d{4}"), "S####, P#### or E####"),
    "gmf": (re.compile(r"\S(.*\S)?"), "a failure name without surrounding spaces"),
}
_SLUG = r"[a-z][a-z0-9_]*"
_VERSION = re.compile(r"v\d+")
_FILE_PATTERN = "failure_modes.{version}.json"


class CrosswalkEntry(BaseModel):
    """One correspondence between a taxonomy node and a concept of a public taxonomy.

    Attributes:
        scheme: which public taxonomy (one of :data:`SCHEMES`).
        code: the concept's identifier there (for ``gmf``, which has none, its exact name).
        name: the concept's name there.
        match: how the two relate, read as "the external concept is ... of the node":
            ``exact`` the same, ``broad`` wider, ``narrow`` a part of it, ``related`` overlapping.
        verified: False when the code or name could not be checked against the published source.
        note: anything a reader of the mapping should know (a former name, a caveat).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    scheme: Scheme
    code: str
    name: str = Field(min_length=1)
    match: Match = "related"
    verified: bool = True
    note: str | None = None

    @model_validator(mode="after")
    def _code_is_well_formed(self) -> CrosswalkEntry:
        pattern, form = _CODE_FORMS[self.scheme]
        if not pattern.fullmatch(self.code):
            raise ValueError(f"{self.scheme} code {self.code!r} is not of the form {form}")
        return self

    @property
    def label(self) -> str:
        """The code and name as the scheme itself writes them.

        For ``mit`` this is exactly AIID's subdomain string (``"2.2. AI system security
        vulnerabilities and attacks"``); for ``avid`` the ``SepEnum`` value (``"S0403:
        Adversarial Example"``); for ``gmf`` the failure name.
        """
        if self.scheme == "mit":
            return f"{self.code}. {self.name}"
        if self.scheme == "avid":
            return f"{self.code}: {self.name}"
        if self.scheme == "gmf":
            return self.code
        return f"{self.code} {self.name}"


class Node(BaseModel):
    """A failure mode (``kind="mode"``) or a technique under one.

    Attributes:
        id: stable dotted id; a technique's id is its parent's id plus one segment.
        kind: ``mode`` (one of the top-level labels) or ``technique``.
        parent: the node this one sits under; None for a mode.
        modes: the failure modes an incident showing this node falls under, its own mode
            first (a crescendo jailbreak is both ``adversarial`` and ``multi_turn``).
        name: a short human name.
        summary: a one-sentence definition.
        definition: the full definition.
        examples: typical cases.
        exclusions: what does not count (the guide's "Not:" clauses for a mode).
        crosswalk: correspondences of this node itself; its techniques carry their own.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=rf"^{_SLUG}(\.{_SLUG})*$")
    kind: Literal["mode", "technique"]
    parent: str | None = None
    modes: tuple[str, ...] = ()
    name: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    definition: str = Field(min_length=1)
    examples: tuple[str, ...] = ()
    exclusions: tuple[str, ...] = ()
    crosswalk: tuple[CrosswalkEntry, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _a_mode_is_its_own_mode(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("kind") == "mode" and not data.get("modes"):
            return {**data, "modes": [data.get("id")]}
        return data

    @model_validator(mode="after")
    def _shape(self) -> Node:
        root = self.id.split(".")[0]
        if self.kind == "mode":
            if self.id != root:
                raise ValueError(f"mode id {self.id!r} must be a single segment")
            if self.parent is not None:
                raise ValueError(f"mode {self.id!r} must not have a parent")
            if self.modes != (self.id,):
                raise ValueError(f"mode {self.id!r} must list only itself in modes")
        else:
            if self.parent is None or self.id.rpartition(".")[0] != self.parent:
                raise ValueError(
                    f"technique id {self.id!r} must be its parent's id plus one segment "
                    f"(parent is {self.parent!r})"
                )
            if not self.modes or self.modes[0] != root:
                raise ValueError(f"technique {self.id!r} must list its own mode {root!r} first")
            if len(set(self.modes)) != len(self.modes):
                raise ValueError(f"technique {self.id!r} lists a mode twice")
        seen: set[tuple[str, str]] = set()
        for entry in self.crosswalk:
            key = (entry.scheme, entry.code)
            if key in seen:
                raise ValueError(f"{entry.scheme} code {entry.code!r} is listed twice")
            seen.add(key)
        return self


class SchemeInfo(BaseModel):
    """Which edition of a public taxonomy the crosswalk was checked against, and where."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    edition: str
    source: str
    verified: bool
    note: str | None = None


class Taxonomy(BaseModel):
    """A validated failure-mode taxonomy: its nodes and their crosswalks.

    Build one with :func:`load_taxonomy` (the shipped versions) or :meth:`from_file`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    taxonomy: str
    version: str = Field(pattern=r"^v\d+$")
    description: str
    schemes: dict[Scheme, SchemeInfo]
    nodes: tuple[Node, ...]

    _by_id: dict[str, Node] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Taxonomy:
        by_id: dict[str, Node] = {}
        for node in self.nodes:
            if node.id in by_id:
                raise ValueError(f"duplicate node id {node.id!r}")
            by_id[node.id] = node
        mode_ids = {node.id for node in self.nodes if node.kind == "mode"}
        if not mode_ids:
            raise ValueError("the taxonomy has no modes")
        for node in self.nodes:
            if node.parent is not None and node.parent not in by_id:
                raise ValueError(f"node {node.id!r}: parent {node.parent!r} does not exist")
            for mode in node.modes:
                if mode not in mode_ids:
                    raise ValueError(f"node {node.id!r}: mode {mode!r} does not exist")
            for entry in node.crosswalk:
                info = self.schemes.get(entry.scheme)
                if info is None:
                    raise ValueError(
                        f"node {node.id!r}: scheme {entry.scheme!r} has no entry in 'schemes'"
                    )
                if entry.verified and not info.verified:
                    raise ValueError(
                        f"node {node.id!r}: {entry.scheme} code {entry.code!r} is marked "
                        f"verified but the scheme is not"
                    )
        self._by_id = by_id
        return self

    @classmethod
    def from_file(cls, path: str | Path) -> Taxonomy:
        """Read and validate a taxonomy file.

        Raises:
            IncidentDBError: the file cannot be read, is not JSON, or breaks a rule; the
                message names the file and, where it can, the node.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise IncidentDBError(f"cannot read taxonomy file {path}: {exc.strerror}") from None
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IncidentDBError(
                f"taxonomy file {path} is not valid JSON: {exc.msg} "
                f"(line {exc.lineno}, column {exc.colno})"
            ) from None
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(_describe(raw, error) for error in exc.errors())
            raise IncidentDBError(f"taxonomy file {path} is invalid: {problems}") from None

    @property
    def modes(self) -> tuple[Node, ...]:
        """The top-level failure modes, in file order."""
        return tuple(node for node in self.nodes if node.kind == "mode")

    @property
    def techniques(self) -> tuple[Node, ...]:
        """Every technique, at any depth, in file order."""
        return tuple(node for node in self.nodes if node.kind == "technique")

    def get(self, node_id: str) -> Node:
        """The node with this id.

        Raises:
            NotFoundError: no node has that id.
        """
        try:
            return self._by_id[node_id]
        except KeyError:
            raise NotFoundError(
                f"no failure mode or technique {node_id!r} in taxonomy {self.version}",
                hint="`incidentdb taxonomy show` lists the ids.",
            ) from None

    def scheme_info(self, scheme: str) -> SchemeInfo:
        """Which edition of a public taxonomy the crosswalk was checked against, and where.

        Raises:
            IncidentDBError: the scheme is unknown or this taxonomy has no entry for it.
        """
        checked = cast(Scheme, _check_scheme(scheme))
        try:
            return self.schemes[checked]
        except KeyError:
            raise IncidentDBError(f"taxonomy {self.version} has no {scheme} crosswalk") from None

    def crosswalk(self, node_id: str, to: str) -> list[CrosswalkEntry]:
        """The node's own correspondences in scheme ``to``, in file order.

        Raises:
            NotFoundError: no node has that id.
            IncidentDBError: ``to`` is not one of :data:`SCHEMES`.
        """
        scheme = _check_scheme(to)
        return [entry for entry in self.get(node_id).crosswalk if entry.scheme == scheme]

    def from_external(self, scheme: str, code: str) -> list[str]:
        """Ids of the nodes that map to an external concept, in file order.

        ``avid`` codes match by prefix (``"S04"`` finds nodes mapped to ``S0400`` and
        ``S0403``); ``owasp-*`` codes may carry their year (``"LLM01:2025"``); ``mit`` takes
        the subdomain number or AIID's full string; ``gmf`` names match without regard to case.
        Every other code must match exactly.

        Raises:
            IncidentDBError: the scheme is unknown or the code is empty.
        """
        checked = _check_scheme(scheme)
        wanted = _normalise(checked, code)
        if not wanted:
            raise IncidentDBError(f"an empty {checked} code matches nothing")

        def matches(entry: CrosswalkEntry) -> bool:
            if entry.scheme != checked:
                return False
            if checked == "avid":
                return entry.code.startswith(wanted)
            if checked == "gmf":
                return entry.code.casefold() == wanted.casefold()
            return entry.code == wanted

        return [node.id for node in self.nodes if any(map(matches, node.crosswalk))]


def load_taxonomy(version: str = "v1") -> Taxonomy:
    """The taxonomy that ships with incidentdb, validated.

    Raises:
        NotFoundError: no such version ships.
        IncidentDBError: the version is malformed, or the file breaks a rule.
    """
    if not _VERSION.fullmatch(version):
        raise IncidentDBError(f"taxonomy version {version!r} should look like 'v1'")
    path = bundled_data("taxonomy", _FILE_PATTERN.format(version=version))
    if not path.is_file():
        shipped = sorted(
            p.name.removeprefix("failure_modes.").removesuffix(".json")
            for p in bundled_data("taxonomy").glob(_FILE_PATTERN.format(version="v*"))
        )
        raise NotFoundError(
            f"no taxonomy version {version!r}; shipped: {', '.join(shipped) or 'none'}"
        )
    taxonomy = Taxonomy.from_file(path)
    if taxonomy.version != version:
        raise IncidentDBError(
            f"taxonomy file {path} declares version {taxonomy.version!r}, not {version!r}"
        )
    return taxonomy


def _check_scheme(scheme: str) -> str:
    if scheme not in SCHEMES:
        raise IncidentDBError(f"unknown scheme {scheme!r}; schemes: {', '.join(SCHEMES)}")
    return scheme


def _normalise(scheme: str, code: str) -> str:
    code = code.strip()
    if scheme in ("atlas", "avid"):
        return code.upper()
    if scheme in ("owasp-llm", "owasp-asi"):
        # Written in the wild as LLM01, LLM01:2025, ASI-01 or ASI01:2026.
        found = re.fullmatch(r"(LLM|ASI)-?(\d\d)(:\d{4})?", code.upper())
        return f"{found[1]}{found[2]}" if found else code.upper()
    if scheme == "mit":
        found = re.match(r"(\d\.\d)\.?(\s|$)", code)
        return found[1] if found else code
    return code


def _describe(raw: Any, error: Any) -> str:
    """One validation error as 'where: what', naming the node by id rather than by index."""
    loc = list(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int):
        try:
            node_id = raw["nodes"][loc[1]]["id"]
        except (KeyError, IndexError, TypeError):
            node_id = None
        if isinstance(node_id, str):
            rest = ".".join(str(part) for part in loc[2:])
            where = f"node {node_id!r}" + (f" {rest}" if rest else "")
            return f"{where}: {message}"
    where = ".".join(str(part) for part in loc)
    return f"{where}: {message}" if where else message
