"""An import is checked a stream at a time from a spool on disk, and written in one
transaction: what a user sees is the file's order, one error naming its line, and a store
left as it was when anything is refused."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.builders import line, registered
from tests.rows import fingerprint
from tracker.cli import app

runner = CliRunner()


def write(path, lines: list[dict]) -> str:  # noqa: ANN001
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return str(path)


def invoke(store: str, tmp_path, *args: str):  # noqa: ANN001, ANN201
    return runner.invoke(app, ["--db", store, "--views", str(tmp_path / "views.db"), *args])


def signed(cid: str, event_id: str, on: str = "2023-05-17") -> dict:
    return line("DocumentSigned", event_id, commitment_id=cid, occurred_on=on, instrument="agreement")


def milestone(cid: str, event_id: str, on: str) -> dict:
    return line("MilestoneReached", event_id, commitment_id=cid, occurred_on=on, milestone=event_id)


def test_a_late_fact_far_down_the_file_is_folded_into_its_commitment_in_world_order(store_url, tmp_path):
    history = [registered("visa"), registered("road", binding=False),
               *[milestone("road", f"road-m{n}", f"2024-0{n % 9 + 1}-01") for n in range(30)],
               line("EnteredIntoForce", "visa-eif", commitment_id="visa", occurred_on="2024-07-28"),
               signed("visa", "visa-signed")]  # learnt last, happened first
    result = invoke(store_url, tmp_path, "import", write(tmp_path / "h.jsonl", history))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "imported 34 new events, 0 already recorded"
    board = json.loads(invoke(store_url, tmp_path, "status", "--json").stdout)
    visa = next(row for row in board if row["commitment_id"] == "visa")
    assert (visa["legal_status"], visa["legal_since"]) == ("in force", "2024-07-28")
    signed_on = json.loads(invoke(store_url, tmp_path, "history", "visa", "--json").stdout)
    assert [row["event_id"] for row in signed_on] == ["visa-registered", "visa-signed", "visa-eif"]


def test_the_store_records_the_file_in_its_own_order_across_streams(store_url, tmp_path):
    history = [registered("visa"), registered("road", binding=False), signed("road", "road-signed"),
               signed("visa", "visa-signed"), milestone("road", "road-m1", "2023-06-01")]
    assert invoke(store_url, tmp_path, "import", write(tmp_path / "h.jsonl", history)).exit_code == 0
    exported = [json.loads(x)["event_id"] for x in invoke(store_url, tmp_path, "export").stdout.splitlines()]
    assert exported == [x["event_id"] for x in history]


def test_a_correction_goes_to_the_stream_of_a_fact_on_an_earlier_line_or_in_the_store(store_url, tmp_path):
    assert invoke(store_url, tmp_path, "import", write(tmp_path / "a.jsonl", [
        registered("visa"), signed("visa", "visa-signed")])).exit_code == 0
    history = [registered("road", binding=False), milestone("road", "road-m1", "2023-06-01"),
               line("EventCorrected", "road-fix", occurred_on="2023-06-02", corrects="road-m1", reason="misread",
                    changes={"milestone": "survey done"}),
               line("EventCorrected", "visa-fix", occurred_on="2023-06-02", corrects="visa-signed",
                    reason="misread", changes={"place": "Xian"})]
    result = invoke(store_url, tmp_path, "import", write(tmp_path / "b.jsonl", history))
    assert result.exit_code == 0, result.stderr
    history_of = invoke(store_url, tmp_path, "history", "visa", "--json").stdout
    assert "visa-fix" in history_of and "road-fix" not in history_of


def test_an_event_id_used_in_two_streams_is_refused_naming_the_second_line(store_url, tmp_path):
    history = [registered("visa"), registered("road", binding=False), signed("visa", "same-id"),
               signed("road", "same-id")]
    before = fingerprint(store_url) if invoke(store_url, tmp_path, "demo").exit_code == 0 else None
    result = invoke(store_url, tmp_path, "import", write(tmp_path / "h.jsonl", history))
    assert result.exit_code == 4
    assert result.stderr == ("tracker: error: h.jsonl:4: event id 'same-id' is used twice: in commitment:visa"
                             " and commitment:road\n")
    assert fingerprint(store_url) == before


def test_a_fact_refused_by_its_commitments_rules_names_its_line_and_writes_nothing(store_url, tmp_path):
    assert invoke(store_url, tmp_path, "demo").exit_code == 0
    before = invoke(store_url, tmp_path, "export").stdout
    history = [registered("road", binding=False), *[milestone("road", f"road-m{n}", "2023-06-01") for n in range(5)],
               line("EnteredIntoForce", "bridge-eif", commitment_id="bridge", occurred_on="2024-01-01")]
    result = invoke(store_url, tmp_path, "import", write(tmp_path / "h.jsonl", history))
    assert result.exit_code == 3
    assert result.stderr == "tracker: error: h.jsonl:7: no commitment 'bridge' (see 'tracker status')\n"
    assert invoke(store_url, tmp_path, "export").stdout == before


def test_a_commitment_citing_a_meeting_held_on_a_later_line_is_refused(store_url, tmp_path):
    history = [registered("visa", meeting_id="xian"),
               line("MeetingHeld", "xian-held", meeting_id="xian", occurred_on="2023-05-17", title="State visit",
                    place="Xian", parties=[{"country": "KZ"}, {"country": "CN"}])]
    result = invoke(store_url, tmp_path, "import", write(tmp_path / "h.jsonl", history))
    assert result.exit_code == 3
    assert result.stderr == "tracker: error: h.jsonl:1: no meeting 'xian' (see 'tracker meetings')\n"
    assert invoke(store_url, tmp_path, "import", write(tmp_path / "h2.jsonl", history[::-1])).exit_code == 0


def test_a_store_written_to_between_the_check_and_the_write_is_checked_again(store_url, tmp_path, monkeypatch):
    from events import parse_line
    from tracker.application import Tracker
    from tracker.config import resolve_store

    assert invoke(store_url, tmp_path, "import", write(tmp_path / "a.jsonl", [registered("visa")])).exit_code == 0
    write_records = Tracker.write_records
    calls = []

    def another_writer_first(self, *args, **kwargs):  # noqa: ANN001, ANN202
        if not calls:  # another process records the same event id, with other content, meanwhile
            other = Tracker(resolve_store(store_url))
            other.record(parse_line(signed("visa", "visa-signed", on="2023-05-18")))
            other.close()
        calls.append(1)
        return write_records(self, *args, **kwargs)

    monkeypatch.setattr(Tracker, "write_records", another_writer_first)
    result = invoke(store_url, tmp_path, "import", write(tmp_path / "b.jsonl", [signed("visa", "visa-signed")]))
    # checked again against what the other wrote (else its claim would be written twice), and refused
    assert len(calls) == 1
    assert result.exit_code == 4
    assert result.stderr == ("tracker: error: b.jsonl:1: event id 'visa-signed' is already recorded with other"
                             " content\n")


def test_importing_a_file_twice_changes_nothing_the_second_time(store_url, tmp_path):
    history = write(tmp_path / "h.jsonl", [registered("visa"), signed("visa", "visa-signed")])
    assert invoke(store_url, tmp_path, "import", history).exit_code == 0
    before = fingerprint(store_url)
    again = invoke(store_url, tmp_path, "import", history)
    assert again.stderr.splitlines()[-1] == "imported 0 new events, 2 already recorded"
    assert fingerprint(store_url) == before


def test_an_event_id_used_twice_in_one_stream_with_other_content_names_both_lines_not_a_record(store_url, tmp_path):
    history = [registered("road", binding=False), milestone("road", "road-m1", "2023-06-01"),
               milestone("road", "road-m2", "2023-07-01"), milestone("road", "road-m1", "2023-08-01")]
    result = invoke(store_url, tmp_path, "import", write(tmp_path / "h.jsonl", history))
    assert result.exit_code == 4
    assert result.stderr == ("tracker: error: h.jsonl:4: event id 'road-m1' is used twice with other content:"
                             " on line 2 and on this one\n")


def test_a_line_repeated_further_down_is_recorded_at_its_first_line(store_url, tmp_path):
    history = [registered("visa"), signed("visa", "visa-signed"), registered("road", binding=False),
               signed("visa", "visa-signed")]
    result = invoke(store_url, tmp_path, "import", write(tmp_path / "h.jsonl", history))
    assert result.stderr.splitlines()[-1] == "imported 3 new events, 1 already recorded"
    exported = [json.loads(x)["event_id"] for x in invoke(store_url, tmp_path, "export").stdout.splitlines()]
    assert exported == ["visa-registered", "visa-signed", "road-registered"]
