"""`incidentdb export …`: incidents, test suites and reports in the formats other tools read.

Each kind of export is a command of its own module, added to this group in `incidentdb.cli`.
"""

from __future__ import annotations

import click

__all__ = ["export"]


@click.group()
def export() -> None:
    """Export incidents, test suites and reports to the tools that read them."""
