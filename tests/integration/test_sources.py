"""Several sources per fact, as the Xian visa agreement of 17 May 2023 was reported: by the
Akorda, by news agencies, and once with another day. Each story is recorded through the
application, then read from the live read models, a rebuild and the replay, which agree."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from events import parse_line
from events.errors import ImpossibleTransition, InvalidInput, NotHappenedYet, UnknownEvent
from projections import read, replay
from projections.rebuild import rebuild
from projections.runner import catch_up, open_views
from tests.builders import fact, line, registered
from tests.views import dump

AKORDA = {"title": "Kazakhstan and China sign 22 documents in Xian", "publisher": "Akorda", "kind": "government"}
KAZINFORM = {"title": "Visa-free travel agreed in Xian", "publisher": "Kazinform", "kind": "news agency"}
XINHUA = {"title": "China, Kazakhstan sign visa exemption agreement", "publisher": "Xinhua", "kind": "news agency"}
TENGRI = {"title": "Visa agreement signed on 18 May", "publisher": "Tengrinews", "kind": "news agency"}


def annotation(type_: str, event_id: str, **fields):
    return parse_line({"type": type_, "event_id": event_id, **fields})


def signed_visa(tracker, source=AKORDA) -> None:  # noqa: ANN001
    tracker.record_many([parse_line(registered("visa")),
                         fact("DocumentSigned", "visa-signed", instrument="agreement", place="Xian", source=source)])


def board_row(tracker, tmp_path) -> dict:  # noqa: ANN001
    """The visa agreement's row in the live read models, after checking that a rebuild and the
    replay of the facts give the same."""
    live = tmp_path / "live.db"
    db = open_views(live)
    catch_up(tracker, db)
    db.close()
    rebuild(tracker, tmp_path / "rebuilt.db")
    assert dump(live) == dump(tmp_path / "rebuilt.db")
    facts = [f for _, f in tracker.facts()]
    with read.connect(live) as db:
        (row,) = [r for r in read.board(db, datetime.now().date()) if r["commitment_id"] == "visa"]
    (replayed,) = [r for r in replay.board(facts, datetime.now().date()) if r["commitment_id"] == "visa"]
    assert {k: replayed[k] for k in row} == row
    return row


def history(tmp_path, event_id: str) -> dict:  # noqa: ANN001
    with read.connect(tmp_path / "live.db") as db:
        (row,) = [r for r in read.timeline(db, stream="commitment:visa") if r["event_id"] == event_id]
    return row


def test_a_signing_reported_by_the_akorda_and_two_news_agencies_keeps_all_three(tracker, tmp_path):
    signed_visa(tracker, source=[AKORDA, KAZINFORM])
    tracker.record(annotation("SourceCited", "visa-signed-xinhua", cites="visa-signed", occurred_on="2023-05-17",
                              source=XINHUA))
    row = board_row(tracker, tmp_path)
    # the registration's source, the Akorda, Kazinform, Xinhua; one official
    assert (row["sources"], row["official_sources"], row["open_claims"]) == (4, 1, 0)
    assert (row["legal_status"], row["last_change"]) == ("signed", "agreement signed in Xian")
    signed = history(tmp_path, "visa-signed")
    assert signed["source_title"] == AKORDA["title"]
    assert signed["sources"].splitlines() == [
        "Kazakhstan and China sign 22 documents in Xian, Akorda [government]",
        "Visa-free travel agreed in Xian, Kazinform [news agency]"]
    cited = history(tmp_path, "visa-signed-xinhua")
    assert cited["summary"] == ("visa-signed also reported by China, Kazakhstan sign visa exemption agreement,"
                                " Xinhua [news agency]")
    assert (cited["standing"], signed["standing"]) == ("standing", "standing")


def test_the_same_signing_recorded_again_with_another_source_corroborates_it_and_is_no_second_step(tracker, tmp_path):
    signed_visa(tracker)
    db = open_views(tmp_path / "live.db")
    catch_up(tracker, db)  # the runner folds the next fact on the state it holds
    db.close()
    again = tracker.record(fact("DocumentSigned", "visa-signed-kazinform", instrument="agreement", place="Xian",
                                source=KAZINFORM))
    assert again.added == 1
    status = tracker.status("visa")
    assert (status.legal_status, status.legal_event_id, status.events) == ("signed", "visa-signed", 2)
    row = board_row(tracker, tmp_path)
    assert (row["sources"], row["official_sources"], row["last_change_on"]) == (3, 1, "2023-05-17")


def test_the_same_entry_into_force_reported_with_another_day_is_refused_naming_a_conflicting_claim(tracker):
    signed_visa(tracker)
    tracker.record(fact("EnteredIntoForce", "visa-in-force", occurred_on="2023-11-10", source=AKORDA))
    with pytest.raises(ImpossibleTransition) as refused:
        tracker.record(fact("EnteredIntoForce", "visa-in-force-tengri", occurred_on="2023-11-11", source=TENGRI))
    assert str(refused.value) == (
        "visa-in-force-tengri: entered into force on 2023-11-11 is impossible: it was already in force on"
        " 2023-11-10 (recorded fact 'visa-in-force'); a source that reports it otherwise is a ClaimConflicted"
        " on 'visa-in-force'")
    assert [f.event_id for f in tracker.history("visa")] == ["visa-registered", "visa-signed", "visa-in-force"]


def test_a_claim_of_another_day_stays_beside_the_signing_until_the_recorded_day_is_found_to_stand(tracker, tmp_path):
    signed_visa(tracker)
    tracker.record(annotation("ClaimConflicted", "tengri-18-may", conflicts_with="visa-signed",
                              occurred_on="2023-05-18", claims={"occurred_on": "2023-05-18"}, source=TENGRI))
    row = board_row(tracker, tmp_path)
    assert (row["open_claims"], row["sources"], row["last_change_on"]) == (1, 2, "2023-05-17")
    assert history(tmp_path, "visa-signed")["standing"] == "contested by tengri-18-may"
    assert history(tmp_path, "tengri-18-may")["standing"] == "open"
    tracker.record(annotation("ClaimSettled", "tengri-settled", settles="tengri-18-may", occurred_on="2023-06",
                              outcome="recorded fact stands", reason="the Akorda's own report is dated the 17th",
                              source=AKORDA))
    row = board_row(tracker, tmp_path)
    assert (row["open_claims"], row["sources"], row["last_change_on"]) == (0, 2, "2023-05-17")
    assert history(tmp_path, "visa-signed")["standing"] == "standing"
    assert history(tmp_path, "tengri-18-may")["standing"] == "settled by tengri-settled: recorded fact stands"


def test_an_accepted_claim_moves_the_signing_to_the_claimed_day_as_a_correction_would(tracker, tmp_path):
    signed_visa(tracker)
    tracker.record(annotation("ClaimConflicted", "tengri-18-may", conflicts_with="visa-signed",
                              occurred_on="2023-05-18", claims={"occurred_on": "2023-05-18"}, source=TENGRI))
    before_settling = datetime.now(timezone.utc)
    tracker.record(annotation("ClaimSettled", "tengri-accepted", settles="tengri-18-may", occurred_on="2023-06",
                              outcome="claim accepted", reason="the ministry's register says the 18th"))
    row = board_row(tracker, tmp_path)
    assert (row["open_claims"], row["sources"], row["last_change_on"]) == (0, 3, "2023-05-18")
    assert tracker.status("visa").signed_on == "2023-05-18"
    assert tracker.status("visa", known_at=before_settling).signed_on == "2023-05-17"
    assert history(tmp_path, "visa-signed")["standing"] == "corrected by tengri-accepted (claim tengri-18-may accepted)"


@pytest.mark.parametrize(("fields", "error", "message"), [
    ({"conflicts_with": "visa-signed", "claims": {"colour": "red"}}, InvalidInput,
     "DocumentSigned has no field colour to contradict"),
    ({"conflicts_with": "visa-signed", "claims": {"instrument": "treaty of friendship"}}, InvalidInput,
     "claim is invalid: DocumentSigned: instrument: Input should be 'agreement', 'memorandum', 'joint statement',"
     " 'protocol', 'plan', 'programme', 'contract', 'treaty' or 'other'"),
    ({"conflicts_with": "visa-lost", "claims": {"occurred_on": "2023-05-18"}}, UnknownEvent,
     "no recorded event 'visa-lost' to contradict"),
    ({"conflicts_with": "visa-signed", "claims": {"occurred_on": "2023-05-17"}}, ImpossibleTransition,
     "bad-claim: the claim says what 'visa-signed' records; record a SourceCited instead"),
])
def test_a_bad_claim_is_refused_with_one_line_and_nothing_is_written(tracker, fields, error, message):
    signed_visa(tracker)
    with pytest.raises(error) as refused:
        tracker.record(annotation("ClaimConflicted", "bad-claim", occurred_on="2023-05-18", source=TENGRI, **fields))
    assert str(refused.value) == message
    assert [f.event_id for f in tracker.history("visa")] == ["visa-registered", "visa-signed"]


def test_settling_twice_or_settling_what_is_no_claim_is_refused(tracker):
    signed_visa(tracker)
    tracker.record(annotation("ClaimConflicted", "tengri-18-may", conflicts_with="visa-signed",
                              occurred_on="2023-05-18", claims={"occurred_on": "2023-05-18"}, source=TENGRI))
    settle = {"occurred_on": "2023-06", "outcome": "recorded fact stands", "reason": "checked"}
    tracker.record(annotation("ClaimSettled", "settled", settles="tengri-18-may", **settle))
    with pytest.raises(ImpossibleTransition, match="^claim 'tengri-18-may' was already settled by 'settled'$"):
        tracker.record(annotation("ClaimSettled", "settled-again", settles="tengri-18-may", **settle))
    with pytest.raises(ImpossibleTransition, match="^'visa-signed' is a DocumentSigned, not a ClaimConflicted:"
                                                   " only a conflicting claim is settled$"):
        tracker.record(annotation("ClaimSettled", "settled-signing", settles="visa-signed", **settle))
    assert len(tracker.history("visa")) == 4


def test_a_retracted_citation_no_longer_counts_its_source(tracker, tmp_path):
    signed_visa(tracker)
    tracker.record(annotation("SourceCited", "cite-xinhua", cites="visa-signed", occurred_on="2023-05-17",
                              source=XINHUA))
    assert board_row(tracker, tmp_path)["sources"] == 3
    tracker.record(annotation("EventRetracted", "uncite", retracts="cite-xinhua", occurred_on="2023-06",
                              reason="the report was about another agreement"))
    assert board_row(tracker, tmp_path)["sources"] == 2
    assert history(tmp_path, "cite-xinhua")["standing"] == "retracted by uncite"


def test_a_meetings_count_and_a_trade_figure_take_other_sources_too(tracker, tmp_path):
    tracker.record_many([
        parse_line(line("MeetingHeld", "xian-held", meeting_id="xian-2023", occurred_on="2023-05-17",
                        title="State visit to China", parties=[{"country": "KZ"}, {"country": "CN"}])),
        parse_line(line("DocumentsReported", "count-22", meeting_id="xian-2023", occurred_on="2023-05-17", count=22,
                        source=AKORDA)),
        parse_line(line("TradeFigureReported", "q1", occurred_on="2023-Q1", reporter="KZ", partner="CN",
                        flow="exports", period="2023-Q1", value="2600000000")),
    ])
    live = open_views(tmp_path / "live.db")
    catch_up(tracker, live)
    tracker.record_many([annotation("SourceCited", "count-22-xinhua", cites="count-22", occurred_on="2023-05-18",
                                    source=XINHUA),
                         annotation("SourceCited", "q1-kazinform", cites="q1", occurred_on="2023-04",
                                    source=KAZINFORM)])
    catch_up(tracker, live)
    live.close()
    rebuild(tracker, tmp_path / "rebuilt.db")
    assert dump(tmp_path / "live.db") == dump(tmp_path / "rebuilt.db")
    with read.connect(tmp_path / "live.db") as db:
        (meeting,) = read.meetings(db)
        figure = db.execute("SELECT sources FROM indicators WHERE event_id = 'q1'").fetchone()[0]
    assert meeting["reported"] == "22 reported (Kazakhstan and China sign 22 documents in Xian, Akorda; +1 more)"
    assert figure.splitlines()[1] == "Visa-free travel agreed in Xian, Kazinform [news agency]"


def test_a_claim_dating_the_signing_in_the_future_cannot_be_accepted_and_nothing_is_written(tracker):
    signed_visa(tracker)
    tracker.record(annotation("ClaimConflicted", "wrong-year", conflicts_with="visa-signed",
                              occurred_on="2023-05-18", claims={"occurred_on": "2099-05-17"}, source=TENGRI))
    with pytest.raises(NotHappenedYet) as refused:
        tracker.record(annotation("ClaimSettled", "wrong-year-accepted", settles="wrong-year", occurred_on="2023-06",
                                  outcome="claim accepted", reason="taken on trust"))
    assert str(refused.value).startswith(
        "wrong-year-accepted: claim 'wrong-year' cannot be accepted: it dates 'visa-signed' 2099-05-17, which has not"
        " happened yet (")
    assert str(refused.value).endswith("); settle it with 'recorded fact stands'")
    assert [f.event_id for f in tracker.history("visa")] == ["visa-registered", "visa-signed", "wrong-year"]
    assert tracker.status("visa").signed_on == "2023-05-17"


def test_history_shows_a_fact_at_the_day_an_accepted_claim_gives_it_as_after_a_correction(tracker, tmp_path):
    signed_visa(tracker)
    board_row(tracker, tmp_path)  # the live read models hold the signing before the claim arrives
    tracker.record(annotation("ClaimConflicted", "tengri-18-may", conflicts_with="visa-signed",
                              occurred_on="2023-05-18", claims={"occurred_on": "2023-05-18"}, source=TENGRI))
    tracker.record(annotation("ClaimSettled", "tengri-accepted", settles="tengri-18-may", occurred_on="2023-06",
                              outcome="claim accepted", reason="the ministry's register says the 18th"))
    assert board_row(tracker, tmp_path)["legal_since"] == "2023-05-18"
    signed = history(tmp_path, "visa-signed")
    assert (signed["occurred_on"], signed["standing"]) == (
        "2023-05-18", "corrected by tengri-accepted (claim tengri-18-may accepted)")


def test_a_signing_reported_by_fifty_other_sources_can_still_be_corrected_and_a_claim_on_it_accepted(
        tracker, tmp_path):
    signed_visa(tracker)
    others = [{"title": f"Regional newspaper {n}", "kind": "other"} for n in range(50)]
    tracker.record(annotation("SourceCited", "press-review", cites="visa-signed", occurred_on="2023-05-20",
                              source=others))
    tracker.record(annotation("EventCorrected", "spelling", corrects="visa-signed", occurred_on="2023-05-21",
                              changes={"place": "Xi'an"}, reason="the city's usual spelling", source=AKORDA))
    tracker.record(annotation("ClaimConflicted", "tengri-18-may", conflicts_with="visa-signed",
                              occurred_on="2023-05-18", claims={"occurred_on": "2023-05-18"}, source=TENGRI))
    tracker.record(annotation("ClaimSettled", "tengri-accepted", settles="tengri-18-may", occurred_on="2023-06",
                              outcome="claim accepted", reason="the ministry's register says the 18th"))
    row = board_row(tracker, tmp_path)
    # the registration's source, the Akorda, fifty newspapers, Tengrinews
    assert (row["sources"], row["legal_since"], row["last_change"]) == (53, "2023-05-18", "agreement signed in Xi'an")
