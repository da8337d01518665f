"""An export is the store's recording order, across every stream, and importing it into a new
store gives a store whose export is the same bytes; each line says its class version."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.builders import SOURCE, line, registered
from tests.conftest import postgres_url
from tracker.cli import app

runner = CliRunner()
MFA = {"title": "Visa-free travel between Kazakhstan and China", "publisher": "Ministry of Foreign Affairs"}


def run(store: str, views: str, *args: str) -> str:
    result = runner.invoke(app, ["--db", store, "--views", views, *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def another_store(store_url: str, tmp_path, name: str) -> str:  # noqa: ANN001
    return postgres_url() if store_url.startswith("postgresql") else str(tmp_path / f"{name}.db")


def write(path, lines: list[dict]) -> str:  # noqa: ANN001
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return str(path)


# The streams interleave: each commitment's facts come between the other's.
FIRST = [
    registered("visa"),
    registered("road", binding=False),
    line("MeetingHeld", "xian-held", meeting_id="xian", occurred_on="2023-05-17", title="State visit",
         place="Xian", parties=[{"country": "KZ"}, {"country": "CN"}]),
    line("DocumentSigned", "visa-signed", commitment_id="visa", occurred_on="2023-05-17", instrument="agreement"),
    line("DocumentSigned", "road-signed", commitment_id="road", occurred_on="2023-05-17", instrument="memorandum"),
    line("DocumentsReported", "xian-22", meeting_id="xian", occurred_on="2023-05-17", count=22),
    line("EnteredIntoForce", "visa-in-force", commitment_id="visa", occurred_on="2024-03-10"),
    line("MilestoneReached", "road-km-100", commitment_id="road", occurred_on="2024-01", milestone="100 km"),
]
LATER = [
    line("MilestoneReached", "road-km-200", commitment_id="road", occurred_on="2024-06", milestone="200 km"),
    {"type": "EventCorrected", "event_id": "visa-date-fixed", "corrects": "visa-in-force", "occurred_on": "2024-04-02",
     "reason": "The ministry gives 1 March", "changes": {"occurred_on": "2024-03-01"}, "source": MFA},
    line("MilestoneReached", "road-km-300", commitment_id="road", occurred_on="2024-09", milestone="300 km"),
    {"type": "EventRetracted", "event_id": "xian-22-retracted", "retracts": "xian-22", "occurred_on": "2024-04-02",
     "reason": "The count was of another visit", "source": SOURCE},
]


def test_an_export_lists_the_events_in_the_order_they_were_recorded_across_commitments(store_url, tmp_path):
    views = str(tmp_path / "views.db")
    run(store_url, views, "import", write(tmp_path / "first.jsonl", FIRST))
    run(store_url, views, "import", write(tmp_path / "later.jsonl", LATER))
    exported = [json.loads(x) for x in run(store_url, views, "export").splitlines()]
    assert [x["event_id"] for x in exported] == [x["event_id"] for x in FIRST + LATER]


def test_export_import_export_of_interleaved_streams_and_corrections_gives_the_same_bytes(store_url, tmp_path):
    views = str(tmp_path / "views.db")
    run(store_url, views, "import", write(tmp_path / "first.jsonl", FIRST))
    run(store_url, views, "import", write(tmp_path / "later.jsonl", LATER))
    first = run(store_url, views, "export")
    (tmp_path / "export.jsonl").write_text(first)
    other = another_store(store_url, tmp_path, "other")
    run(other, str(tmp_path / "other-views.db"), "import", str(tmp_path / "export.jsonl"))
    assert run(other, str(tmp_path / "other-views.db"), "export") == first


def test_export_import_export_of_the_demo_gives_the_same_bytes(store_url, tmp_path):
    views = str(tmp_path / "views.db")
    run(store_url, views, "demo")
    first = run(store_url, views, "export")
    (tmp_path / "export.jsonl").write_text(first)
    other = another_store(store_url, tmp_path, "other")
    run(other, str(tmp_path / "other-views.db"), "import", str(tmp_path / "export.jsonl"))
    assert run(other, str(tmp_path / "other-views.db"), "export") == first


def test_a_chunked_import_records_in_the_files_order_too(tmp_path):
    store, views = str(tmp_path / "events.db"), str(tmp_path / "views.db")
    run(store, views, "import", "--chunk", "4", write(tmp_path / "first.jsonl", FIRST))
    exported = [json.loads(x) for x in run(store, views, "export").splitlines()]
    assert [x["event_id"] for x in exported] == [x["event_id"] for x in FIRST]


def test_an_exported_line_says_its_class_version_when_above_one(tmp_path):
    store, views = str(tmp_path / "events.db"), str(tmp_path / "views.db")
    run(store, views, "import", write(tmp_path / "first.jsonl", FIRST[:4]))
    exported = [json.loads(x) for x in run(store, views, "export").splitlines()]
    assert list(exported[0])[:2] == ["type", "class_version"] and exported[0]["class_version"] == 2
    assert "class_version" not in exported[3]  # DocumentSigned is at version 1


def test_an_imported_line_written_at_an_older_class_version_is_upcast(tmp_path):
    store, views = str(tmp_path / "events.db"), str(tmp_path / "views.db")
    old = {**registered("visa"), "class_version": 1, "party_codes": ["KZ", "CN"]}
    del old["parties"]
    run(store, views, "import", write(tmp_path / "old.jsonl", [old]))
    [board] = json.loads(run(store, views, "status", "--json"))
    assert board["parties"] == "KZ, CN"


@pytest.mark.parametrize(("version", "message"), [
    (3, "tracker: error: new.jsonl:1: class_version 3: this tracker reads CommitmentRegistered lines up to version 2;"
        " upgrade the tracker to import this line"),
    ("2", "tracker: error: new.jsonl:1: class_version '2' is not a version (a whole number from 1)"),
])
def test_a_line_at_a_class_version_this_tracker_does_not_know_is_refused_and_nothing_is_written(tmp_path, version,
                                                                                                message):
    store, views = str(tmp_path / "events.db"), str(tmp_path / "views.db")
    result = runner.invoke(app, ["--db", store, "--views", views, "import",
                                 write(tmp_path / "new.jsonl", [{**registered("visa"), "class_version": version}])])
    assert result.exit_code == 2 and result.stderr.strip() == message
    assert not (tmp_path / "events.db").exists()
