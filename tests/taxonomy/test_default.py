"""The shipped default classifier: built from the project's own examples, cached on first use."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from taxonomy import _default, default_cache_path, default_classifier, load_examples
from taxonomy._rules import MODES


def test_the_shipped_examples_cover_every_mode() -> None:
    texts, labels = load_examples()
    assert len(texts) == len(set(texts)) == len(labels)
    counts = Counter(label for row in labels for label in row)
    assert set(counts) == set(MODES)
    assert min(counts.values()) >= 90
    assert sum(not row for row in labels) >= 200  # incidents with no failure mode
    # Deterministic: the same expansion every time.
    assert load_examples() == (texts, labels)


def test_a_bad_examples_file_names_the_template(tmp_path: Path) -> None:
    bad = tmp_path / "examples.json"
    bad.write_text('{"slots": {}, "templates": [{"labels": ["misuse"], "text": "{who} lied"}]}')
    with pytest.raises(ValueError, match=r"examples.json, template 0: unknown slots \['who'\]"):
        load_examples(bad)
    bad.write_text('{"slots": {}, "templates": [{"labels": ["misuze"], "text": "x"}]}')
    with pytest.raises(ValueError, match=r"template 0: unknown labels \['misuze'\]"):
        load_examples(bad)


@pytest.mark.slow
def test_built_on_first_use_then_loaded_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(_default.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(_default, "_LOADED", {})
    path = default_cache_path()
    assert path.parent == tmp_path and not path.exists()
    built = default_classifier()
    assert path.exists()
    assert built.name == "incidentdb.default"
    monkeypatch.setattr(_default, "_LOADED", {})
    loaded = default_classifier()
    assert loaded is not built and loaded.version_ == built.version_
    [tagging] = loaded.tag(["Scammers used a deepfake video of a CEO to defraud investors."])
    assert tagging.modes == ["misuse"]


@pytest.mark.slow
def test_build_default_command_writes_a_loadable_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from incidentdb.cli import cli
    from taxonomy import load_classifier

    monkeypatch.setenv(_default.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(_default, "_LOADED", {})
    out = tmp_path / "default.model"
    result = CliRunner().invoke(cli, ["--quiet", "taxonomy", "build-default", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out}\n"
    model = load_classifier(out)
    assert model.name == "incidentdb.default"
    # Deterministic: the version only depends on the shipped examples and the parameters.
    assert model.version_ == default_classifier().version_
