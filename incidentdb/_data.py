"""Files the project ships in `data/`: found in an installed wheel or in a source checkout."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["bundled_data"]


def bundled_data(*parts: str) -> Path:
    """Path of a shipped data file or folder, e.g. ``bundled_data("sample")``.

    A wheel carries `data/` as `incidentdb/_bundled_data/`; an editable install reads the
    checkout's `data/` beside the package.
    """
    installed = Path(str(files("incidentdb"))) / "_bundled_data"
    root = installed if installed.is_dir() else Path(__file__).resolve().parent.parent / "data"
    return root.joinpath(*parts)
