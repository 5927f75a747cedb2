"""The text formats exporters write by hand: YAML that parses back, Jinja-proof PyRIT values."""

from __future__ import annotations

import string

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from generators._export import dump_yaml, file_stem
from generators.pyrit.writer import jinja_escape

keys = st.text(alphabet=string.ascii_letters + "_- .:é{", min_size=1, max_size=8)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
)
documents = st.dictionaries(
    keys,
    st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=12,
    ),
    max_size=5,
)


@settings(max_examples=100, deadline=None)
@given(documents)
def test_yaml_parses_back_to_the_same_document(document: dict[str, object]) -> None:
    assert yaml.safe_load(dump_yaml(document)) == (document or None)


def test_yaml_layout() -> None:
    assert dump_yaml({"a": [{"b": 1, "c": ["x"]}, "y", []], "d e": {}}) == (
        'a:\n  - b: 1\n    c:\n      - "x"\n  - "y"\n  - []\n"d e": {}\n'
    )


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("{}%#-'\"\n xy")), max_size=40))
def test_jinja_escape_renders_back_exactly(text: str) -> None:
    jinja2 = pytest.importorskip("jinja2")
    from jinja2.sandbox import SandboxedEnvironment

    assert jinja2 is not None
    rendered = SandboxedEnvironment().from_string(jinja_escape(text)).render()
    assert rendered == text


def test_file_stem() -> None:
    assert file_stem("nightly regressions/v2") == "nightly_regressions_v2"
    assert file_stem("...") == "suite"
