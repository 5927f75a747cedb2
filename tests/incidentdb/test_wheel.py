"""The demo works from an installed wheel, not only from a checkout (data/ ships inside)."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from tests_support import PROJECT_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(out),
            str(PROJECT_ROOT),
        ],
        check=True,
    )
    (built,) = out.glob("incidentdb-*.whl")
    return built


def test_wheel_carries_the_packages_and_the_sample(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for package in ("incidentdb", "ingest", "taxonomy", "generators"):
        assert f"{package}/__init__.py" in names
    assert "incidentdb/migrations/versions/0001_initial_schema.py" in names
    assert "incidentdb/migrations/sqlite_schema.sql" in names  # how a new SQLite store is made
    assert "incidentdb/_bundled_data/sample/mongodump_full_snapshot/incidents.csv" in names
    assert not any(name.startswith("tests/") for name in names)


def test_demo_from_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    # System site-packages provide the dependencies (no network); the wheel's own copy of
    # incidentdb sits earlier on sys.path than the checkout's editable install.
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ],
        check=True,
    )
    where = subprocess.run(
        [str(python), "-c", "import incidentdb; print(incidentdb.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert where.startswith(str(env_dir))
    db = tmp_path / "demo.sqlite"
    result = subprocess.run(
        [str(env_dir / "bin" / "incidentdb"), "--quiet", "--db", str(db), "demo"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Re-importing the same snapshot: unchanged" in result.stdout
    assert db.exists()
    # The classifier's examples and the exporters reach the wheel: the demo ends in exports.
    assert len(list((tmp_path / "demo-exports").iterdir())) == 6
