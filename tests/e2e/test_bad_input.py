"""Malformed and hostile input: refused in one line, non-zero exit, store unchanged."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.rows import fingerprint
from tracker.cli import app

runner = CliRunner()
VALID = {
    "type": "CommitmentRegistered", "event_id": "fuzz-registered", "commitment_id": "fuzz",
    "occurred_on": "2023-05-17", "kind": "agreement", "title": "Fuzz agreement", "binding": True,
    "parties": [{"country": "KZ"}, {"country": "CN"}], "source": {"title": "fuzz"},
}
INJECTIONS = [
    "'; DROP TABLE stored_events; --",
    "\" OR 1=1 --",
    "<script>alert(1)</script>",
    "$(rm -rf /)",
    "../../etc/passwd",
    "%s%s%n",
    "\\x00",
    "Robert'); DELETE FROM commitments;--",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def bad_lines(draw) -> str:
    """A line that must be refused: not JSON, not an object, or a valid event spoilt in one field."""
    kind = draw(st.sampled_from(["text", "json", "spoilt", "spoilt", "spoilt"]))
    if kind == "text":
        text = draw(st.text(min_size=1, max_size=40).filter(lambda t: t.strip() and not t.strip().startswith(("{", "[", '"')) and not _is_json(t)))
        return text.replace("\n", " ")
    if kind == "json":
        value = draw(json_values.filter(lambda v: not isinstance(v, dict)))
        return json.dumps(value)
    line = dict(VALID)
    field = draw(st.sampled_from(sorted(line) + ["extra"]))
    spoil = draw(st.sampled_from(["wrong type", "huge", "remove", "date", "unknown type", "extra"]))
    if spoil == "remove" and field not in ("source",):
        line.pop(field, None)
    elif spoil == "huge":
        line[field if field in ("title", "kind", "event_id", "commitment_id") else "title"] = "x" * draw(st.integers(5001, 20000))
    elif spoil == "date":
        line["occurred_on"] = draw(st.sampled_from(["2023-02-30", "2023-13-01", "17/05/2023", "2023-Q5", "99999", ""]))
    elif spoil == "unknown type":
        line["type"] = draw(st.text(min_size=1, max_size=20).filter(lambda t: t not in ("CommitmentRegistered",)))
        if line["type"] in __import__("events").EVENT_TYPES:
            line["type"] = "NoSuchEvent"
    elif spoil == "extra":
        line[draw(st.text(min_size=1, max_size=10).filter(lambda k: k not in VALID))] = 1
    else:
        line[field if field != "extra" else "binding"] = draw(json_values.filter(lambda v: not isinstance(v, str) or field in ("binding", "parties", "source")))
    if _valid(line):  # a spoiling that happens to be valid input (e.g. "source": null)
        line["occurred_on"] = "2023-02-30"
    return json.dumps(line)


def _valid(line: dict) -> bool:
    from events import parse_line

    try:
        parse_line(line)
    except (ValueError, TypeError):
        return False
    return True


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@pytest.fixture
def loaded(store_url, tmp_path):
    assert runner.invoke(app, ["--db", store_url, "--views", str(tmp_path / "v.db"), "demo"]).exit_code == 0
    return store_url


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=bad_lines(), position=st.integers(0, 2))
def test_any_malformed_line_is_refused_in_one_line_and_the_store_is_unchanged(loaded, tmp_path, bad, position):
    good = json.dumps({**VALID, "event_id": "fuzz-ok", "commitment_id": "fuzz-ok"})
    lines = [good, good.replace("fuzz-ok", "fuzz-ok2")]
    lines.insert(position, bad)
    history = tmp_path / "bad.jsonl"
    history.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = fingerprint(loaded)
    result = runner.invoke(app, ["--db", loaded, "--views", str(tmp_path / "v.db"), "import", str(history)])
    assert result.exit_code == 2, (bad[:200], result.stderr)
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("tracker: error: bad.jsonl:")
    assert "Traceback" not in result.stderr
    assert fingerprint(loaded) == before


@pytest.mark.parametrize("hostile", INJECTIONS)
def test_hostile_text_is_stored_and_shown_verbatim_as_plain_text(loaded, tmp_path, hostile):
    views = str(tmp_path / "v.db")
    result = runner.invoke(app, ["--db", loaded, "--views", views, "record", "commitment-registered",
                                 "--commitment-id", "hostile", "--occurred-on", "2024", "--kind", hostile,
                                 "--title", hostile, "--sector", hostile, "--note", hostile, "--binding",
                                 "--party", f"KZ:{hostile}", "--source-title", hostile,
                                 "--source-publisher", hostile])
    assert result.exit_code == 0, result.stderr
    board = json.loads(runner.invoke(app, ["--db", loaded, "--views", views, "status", "--json"]).stdout)
    [row] = [r for r in board if r["commitment_id"] == "hostile"]
    assert (row["title"], row["kind"], row["sector"], row["parties"]) == (hostile, hostile, hostile, f"KZ ({hostile})")
    assert len(board) == 11
    [history] = json.loads(runner.invoke(app, ["--db", loaded, "--views", views, "history", "hostile", "--json"]).stdout)
    assert (history["source_title"], history["source_publisher"]) == (hostile, hostile)
    exported = runner.invoke(app, ["--db", loaded, "--views", views, "export"]).stdout.splitlines()
    assert json.loads(exported[-1])["note"] == hostile


@pytest.mark.parametrize("hostile", INJECTIONS)
def test_hostile_filters_match_nothing_and_break_nothing(loaded, tmp_path, hostile):
    views = str(tmp_path / "v.db")
    for option in ("--sector", "--meeting", "--institution"):
        result = runner.invoke(app, ["--db", loaded, "--views", views, "status", option, hostile, "--json"])
        assert (result.exit_code, json.loads(result.stdout)) == (0, [])
    result = runner.invoke(app, ["--db", loaded, "--views", views, "history", hostile])
    assert result.exit_code == 3 and len(result.stderr.splitlines()) == 1
    assert len(json.loads(runner.invoke(app, ["--db", loaded, "--views", views, "status", "--json"]).stdout)) == 10


def test_an_unknown_party_code_in_a_filter_is_refused(loaded, tmp_path):
    result = runner.invoke(app, ["--db", loaded, "--views", str(tmp_path / "v.db"), "status", "--party", "K'Z"])
    assert (result.exit_code, result.stderr) == (2, "tracker: error: --party \"K'Z\" is not an ISO 3166-1 alpha-2 code\n")


def test_a_misspelt_field_in_an_imported_line_is_named_beside_the_field_it_leaves_missing(tmp_path):
    history = tmp_path / "typo.jsonl"
    history.write_text(json.dumps({
        "type": "MilestoneReached", "event_id": "typo", "occurred_on": "2024-12", "source": {"title": "Port of Aktau"},
        "commitment_id": "aktau-2024-logistics-hub", "milestne": "first terminal built"}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["--db", str(tmp_path / "t.db"), "import", str(history)])
    assert (result.exit_code, result.stderr) == (
        2, "tracker: error: typo.jsonl:1: MilestoneReached: milestone: Field required; milestne: unknown field\n")
    assert not (tmp_path / "t.db").exists()
