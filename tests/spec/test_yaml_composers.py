"""libyaml's composer and PyYAML's pure-Python one read declarations identically.

The fast path (libyaml) must give the same data, the same line map and, for
bad input, the same one-line error as the pure-Python composer it replaced.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.errors import SpecError
from planner.spec import yamlsrc
from planner.spec.yamlsrc import load_yaml
from tests.cli import run_cli

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "bad_input"
CASES = [c for c in tomllib.loads((CORPUS / "cases.toml").read_text("utf-8"))["workloads"]
         if "setup" not in c]
EXAMPLES = sorted(REPO.glob("examples/*/*.yaml"))

pytestmark = pytest.mark.skipif(not yamlsrc.libyaml_available(),
                                reason="PyYAML was built without libyaml")


def _read(text: str, libyaml: bool) -> tuple[str, Any, Any]:
    """What load_yaml makes of ``text``: the data and line map, or the error line."""
    try:
        data, lines = load_yaml(text, "w.yaml", libyaml=libyaml)
    except SpecError as err:
        return ("error", str(err), None)
    return ("ok", repr(data), sorted(lines.lines.items(), key=repr))


def _pure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlsrc, "libyaml_available", lambda: False)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["file"].removesuffix(".yaml"))
def test_bad_input_corpus_gives_the_same_error_line(case: dict[str, Any], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / case["file"]
    target.write_bytes((CORPUS / case["file"]).read_bytes())
    fast = run_cli("validate", str(target))
    _pure(monkeypatch)
    pure = run_cli("validate", str(target))
    assert (fast.code, fast.out, fast.err) == (pure.code, pure.out, pure.err)
    assert fast.code == case["exit"] and case["message"] in fast.err


def test_the_fast_path_is_taken_for_most_of_the_corpus() -> None:
    """Else the comparison above would compare the pure composer with itself."""
    texts = [(CORPUS / c["file"]).read_bytes().decode("utf-8", "replace") for c in CASES]
    fast = [t for t in texts if "\x00" not in t and yamlsrc._fast_compose(t) is not None]
    assert len(fast) >= len(texts) * 2 // 3, (len(fast), len(texts))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name + "/" + p.name)
def test_examples_read_the_same_and_fast(path: Path) -> None:
    text = path.read_text("utf-8")
    assert _read(text, True) == _read(text, False)


@pytest.mark.parametrize("text", [
    "a: {b?: c}\n",                 # '?' inside a flow mapping: PyYAML refuses it
    "a: x\tb\n",                    # a tab in a plain scalar: PyYAML refuses it
    "a: !\nb: 1\n",                 # an empty '!'-tagged value: PyYAML null, libyaml ''
    "a: [!, 1]\n",
    "a: 1\n\ufeffb: 2\n",           # a byte-order mark inside the text
])
def test_texts_libyaml_reads_differently_go_to_pyyaml(text: str) -> None:
    assert yamlsrc._fast_compose(text) is None
    assert _read(text, True) == _read(text, False)


@pytest.mark.parametrize("depth", [10, yamlsrc.FAST_DEPTH + 1, 200, 3000])
def test_deep_nesting_is_decided_as_before(depth: int) -> None:
    for text in ("a: " + "[" * depth + "]" * depth + "\n",
                 "a: " + "{b: " * depth + "1" + "}" * depth + "\n"):
        assert _read(text, True) == _read(text, False)


@pytest.mark.parametrize("text", ["a: 1\nb: 2026-13-45\n", "a: 1\nb: !!int\n"])
def test_bad_scalars_name_their_line_as_before(text: str) -> None:
    result = _read(text, True)
    assert result == _read(text, False)
    assert result[0] == "error" and result[1].startswith("w.yaml:2: invalid value"), result


# -- differential: random documents and random edits of real ones -------------------------
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=False, width=32), st.text(max_size=12),
                    st.sampled_from(["A100:8", "8+", "yes", "no", "on", "~", "0x1F", "1_000",
                                     "2026-01-01", "1e3", ".inf", "-0", "<<", "null", "!x"]))
DATA = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=25)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DATA, st.sampled_from([None, True, False]), st.integers(2, 6), st.booleans())
def test_dumped_documents_read_the_same(data: Any, flow: bool | None, indent: int,
                                        unicode: bool) -> None:
    text = yaml.safe_dump({"doc": data}, default_flow_style=flow, indent=indent,
                          allow_unicode=unicode, sort_keys=False)
    assert _read(text, True) == _read(text, False)


SEEDS = [p.read_text("utf-8") for p in EXAMPLES] + [
    t for t in ((CORPUS / c["file"]).read_bytes().decode("utf-8", "replace") for c in CASES)
    if "\x00" not in t and len(t) < 4000]
PIECES = [*" \t\n:-[]{},&*!|>'\"#%@`?\\", "\r", "\u2028", "\x85", "\ufeff", "- ", ": ",
          "\n  ", "---\n", "...\n", "<<: *a", "&a ", "!!str ", "!!int ", "! ", "~", "0x1F",
          "%YAML 1.1\n", "|\n  ", ">-\n  ", "'it''s'", "? x\n: y\n", "&b [1]", "*b"]


@st.composite
def edited(draw: Any) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:i] + draw(st.sampled_from(PIECES)) + text[i:]
        else:
            text = text[:i] + text[i + draw(st.integers(1, 6)):]
    return text


@pytest.mark.parametrize("text", ["---", "--- ", "---\n", "--- ~", "-"])
def test_a_document_of_one_scalar_reads_the_same(text: str) -> None:
    """libyaml marks the empty scalar of a bare '---' on line 2, PyYAML on line 1."""
    assert _read(text, True) == _read(text, False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited())
def test_edited_declarations_read_the_same(text: str) -> None:
    assert _read(text, True) == _read(text, False)
