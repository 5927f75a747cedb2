"""Registries of plug-ins with versioned names (`aiid.v1`, `promptfoo.v1`, …).

Built-ins register exactly as third-party plug-ins do: through the entry-point groups
`incidentdb.ingesters` and `incidentdb.generators`, or by calling :meth:`Registry.register`.
A released name never changes its output; a changed output is a new `.vN`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from incidentdb._errors import RegistryError

__all__ = ["Registry", "generators", "ingesters"]

T = TypeVar("T")
_NAME = re.compile(r"^[a-z][a-z0-9_\-]*(\.[a-z0-9_\-]+)*\.v[0-9]+$")


class Registry(Generic[T]):
    """Named plug-ins of one family, loaded lazily from an entry-point group."""

    def __init__(self, family: str, group: str) -> None:
        self.family = family
        self.group = group
        self._items: dict[str, T] = {}
        self._entry_points_loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering `obj` under `name` (which must end in a version, `.v1`)."""
        if not _NAME.match(name):
            raise RegistryError(f"{self.family} name {name!r} must look like 'source.v1'")

        def decorate(obj: T) -> T:
            self._items[name] = obj
            return obj

        return decorate

    def _load_entry_points(self, name: str | None = None) -> None:
        """Load the entry point called `name`, or every one when `name` is None.

        Loading one imports one plug-in's module: `aiid.v1` need not import the RSS
        ingester's HTTP client and feed parser.
        """
        if self._entry_points_loaded:
            return
        for ep in entry_points(group=self.group):
            if ep.name not in self._items and name in (None, ep.name):
                self._items[ep.name] = ep.load()
        if name is None:
            self._entry_points_loaded = True

    def get(self, name: str) -> T:
        """The plug-in called `name`; the error lists the names that exist."""
        if name not in self._items:
            self._load_entry_points(name)
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise RegistryError(
                f"no {self.family} named {name!r}; registered: {known}",
                hint=f"Plug-ins register under the entry-point group {self.group!r}.",
            ) from None

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(self._items)


ingesters: Registry[type] = Registry("ingester", "incidentdb.ingesters")
generators: Registry[type] = Registry("generator", "incidentdb.generators")
