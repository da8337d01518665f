"""tracker verify catches rows altered, deleted or reordered outside the tracker."""

from __future__ import annotations

import pytest

from events import parse_line
from tests.builders import fact, registered
from tests.rows import execute, fact_rows
from tracker.verify import verify


@pytest.fixture
def history(tracker):
    tracker.record_many([
        parse_line(registered("visa")),
        fact("DocumentSigned", "visa-signed", instrument="agreement"),
        fact("DomesticProcedureCompleted", "kz-ratified", occurred_on="2023-09-01", party="KZ", procedure="ratification"),
        fact("EnteredIntoForce", "visa-in-force", occurred_on="2023-11-10"),
    ])
    tracker.record(parse_line(registered("road")))
    return tracker


def test_an_untouched_history_verifies(history):
    report = verify(history)
    assert report.ok and (report.events, report.streams) == (5, 2)


def test_an_edited_payload_is_named(history, store_url):
    position, *_ , state = fact_rows(store_url)[1]
    execute(store_url, "UPDATE {table} SET state = {p} WHERE {position} = {p}",
            [state.replace(b"2023-05-17", b"2023-05-16"), position])
    report = verify(history)
    assert "'visa-signed' (commitment:visa v2): content or order altered" in report.problems[0]


def test_a_deleted_event_in_the_middle_is_named(history, store_url):
    position = fact_rows(store_url)[2][0]
    execute(store_url, "DELETE FROM {table} WHERE {position} = {p}", [position])
    report = verify(history)
    assert "'visa-in-force' (commitment:visa v4): expected version 3" in report.problems[0]
    assert any("'kz-ratified'" in p and "missing (deleted)" in p for p in report.problems)


def test_a_deleted_last_event_is_caught_by_its_orphaned_claim(history, store_url):
    position = fact_rows(store_url)[-1][0]
    execute(store_url, "DELETE FROM {table} WHERE {position} = {p}", [position])
    report = verify(history)
    assert report.problems == ["event 'road-registered' in commitment:road was claimed but is missing (deleted)"]


def test_two_events_with_swapped_contents_are_caught(history, store_url):
    rows = fact_rows(store_url)
    (p1, *_, s1), (p2, *_, s2) = rows[1], rows[2]
    execute(store_url, "UPDATE {table} SET state = {p} WHERE {position} = {p}", [s2, p1])
    execute(store_url, "UPDATE {table} SET state = {p} WHERE {position} = {p}", [s1, p2])
    report = verify(history)
    assert report.problems[0].startswith(f"notification {p1}: unreadable (DocumentSigned: instrument: Field required")


def test_the_verify_command_exits_8_and_names_the_first_failure(history, store_url, tmp_path):
    from typer.testing import CliRunner

    from tracker.cli import app

    position, *_ , state = fact_rows(store_url)[3]
    execute(store_url, "UPDATE {table} SET state = {p} WHERE {position} = {p}",
            [state.replace(b"2023-11-10", b"2023-11-11"), position])
    result = CliRunner().invoke(app, ["--db", store_url, "--views", str(tmp_path / "v.db"), "verify"])
    assert result.exit_code == 8
    assert result.stderr.startswith("tracker: error: notification")
    assert "'visa-in-force'" in result.stderr and len(result.stderr.splitlines()) == 1


def test_two_events_moved_in_the_log_are_caught(history, store_url):
    rows = fact_rows(store_url)
    first, second = rows[1][0], rows[2][0]
    for old, new in ((first, -1), (second, first), (-1, second)):
        execute(store_url, "UPDATE {table} SET {position} = {p} WHERE {position} = {p}", [new, old])
    report = verify(history)
    assert report.problems[0] == (
        f"notification {first}: event 'kz-ratified' (commitment:visa v3):"
        " expected version 2 of its stream here; events are missing or reordered"
    )
