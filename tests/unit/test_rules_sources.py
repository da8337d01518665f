"""Sources and claims as rules: a citation adds its sources, a claim stands beside the fact
until settled, an accepted claim corrects it; the stream refuses what names the wrong fact."""

import pytest

from events import parse_line
from events.aggregates import Commitment
from events.errors import ImpossibleTransition, InvalidInput, UnknownEvent
from events.rules import effective_events, evaluate
from tests.builders import fact, registered

AKORDA = {"title": "Xian documents", "publisher": "Akorda", "kind": "government"}
XINHUA = {"title": "Visa exemption agreed", "publisher": "Xinhua", "kind": "news agency"}
TENGRI = {"title": "Signed on 18 May", "publisher": "Tengrinews", "kind": "news agency"}


def note(type_, event_id, **fields):
    return parse_line({"type": type_, "event_id": event_id, "occurred_on": "2023-06-01", **fields})


def signed(source=AKORDA, eid="signed", on="2023-05-17"):
    return fact("DocumentSigned", eid, occurred_on=on, instrument="agreement", source=source)


def cited(source=XINHUA, eid="cite", cites="signed"):
    return note("SourceCited", eid, cites=cites, source=source)


def claim(eid="claim", on="2023-05-18", conflicts_with="signed", **claims):
    return note("ClaimConflicted", eid, conflicts_with=conflicts_with, claims=claims or {"occurred_on": on},
                source=TENGRI)


def settled(outcome, eid="settled", settles="claim"):
    return note("ClaimSettled", eid, settles=settles, outcome=outcome, reason="the decree says so")


def retracted(target, eid=None):
    return note("EventRetracted", eid or f"un-{target}", retracts=target, reason="a mistake")


def history(*facts):
    recorded = [parse_line(registered("visa")), *facts]
    return [f.model_copy(update={"originator_version": n}) for n, f in enumerate(recorded, 1)]


def standing(*facts):
    return {f.event_id: f for f in effective_events(history(*facts))}


def publishers(f):
    return [s.publisher for s in f.sources]


# -- what the facts say once annotated ------------------------------------------------------------


@pytest.mark.parametrize("facts, signed_on, sources, claims", [
    ([signed()], "2023-05-17", ["Akorda"], []),
    ([signed(), cited()], "2023-05-17", ["Akorda", "Xinhua"], []),
    ([signed(), cited(), cited(source=[AKORDA, XINHUA], eid="again")], "2023-05-17", ["Akorda", "Xinhua"], []),
    ([signed(), cited(), retracted("cite")], "2023-05-17", ["Akorda"], []),
    ([signed(), claim()], "2023-05-17", ["Akorda"], ["claim"]),
    ([signed(), claim(), settled("recorded fact stands")], "2023-05-17", ["Akorda"], []),
    ([signed(), claim(), settled("claim accepted")], "2023-05-18", ["Akorda", "Tengrinews"], []),
    ([signed(), claim(), settled("claim accepted"), retracted("settled")], "2023-05-17", ["Akorda"], ["claim"]),
    ([signed(), claim(), retracted("claim")], "2023-05-17", ["Akorda"], []),
    ([signed(), claim(), retracted("signed")], None, None, []),
])
def test_citations_claims_and_settlements_change_what_the_fact_says_as_their_rules_say(facts, signed_on, sources,
                                                                                       claims):
    now = standing(*facts)
    if signed_on is None:
        assert "signed" not in now
    else:
        assert (now["signed"].occurred_on, publishers(now["signed"])) == (signed_on, sources)
    assert [e for e, f in now.items() if f.type == "ClaimConflicted"] == claims


def test_an_accepted_claim_on_a_retracted_fact_changes_nothing():
    now = standing(signed(), claim(), retracted("signed"), settled("claim accepted"))
    assert "signed" not in now and "claim" not in now


def test_a_citation_of_a_retracted_fact_is_refused():
    with pytest.raises(UnknownEvent, match="no event 'signed' here for 'cite'"):
        standing(signed(), retracted("signed"), cited())


@pytest.mark.parametrize("facts, message", [
    ([cited(cites="lost")], "no event 'lost' here for 'cite'"),
    ([claim(conflicts_with="lost")], "no event 'lost' here for 'claim'"),
    ([settled("claim accepted", settles="lost")], "no open claim 'lost' to settle here"),
    ([signed(), claim(), settled("recorded fact stands"), settled("claim accepted", eid="again")],
     "no open claim 'claim' to settle here"),
    ([retracted("lost")], "no event 'lost' to retract here"),
])
def test_an_annotation_of_nothing_recorded_is_refused(facts, message):
    with pytest.raises(UnknownEvent, match=message):
        standing(*facts)


def test_a_retracted_annotation_may_be_retracted_before_what_it_named_is_known():
    assert "signed" in standing(signed(), cited(), retracted("cite"))


# -- what the status counts ------------------------------------------------------------------------


def test_an_open_claim_is_counted_beside_the_fact_it_contradicts():
    status = evaluate("visa", history(signed(), claim()))
    assert (status.open_claims, status.signed_on, status.events) == (1, "2023-05-17", 2)
    assert evaluate("visa", history(signed(), claim(), settled("recorded fact stands"))).open_claims == 0


def test_an_accepted_claim_moves_the_fact_to_the_claimed_day():
    status = evaluate("visa", history(signed(), claim(), settled("claim accepted")))
    assert (status.signed_on, status.open_claims) == ("2023-05-18", 0)


def test_each_distinct_source_is_counted_once_and_an_official_one_is_known_as_such():
    status = evaluate("visa", history(signed(source=[AKORDA, XINHUA]), cited(source=[XINHUA, TENGRI])))
    assert sorted(status.cited.values()) == [False, False, False, True]


def test_the_same_fact_recorded_again_corroborates_it_and_gives_it_a_source():
    unsourced = fact("DocumentSigned", "signed", occurred_on="2023-05-17", instrument="agreement", source=None)
    status = evaluate("visa", history(unsourced, signed(eid="signed-again")))
    assert (status.events, status.unsourced, len(status.cited)) == (2, 0, 2)
    twice = evaluate("visa", history(unsourced, unsourced.model_copy(update={"event_id": "again"})))
    assert (twice.events, twice.unsourced) == (2, 1)
    sourced_first = evaluate("visa", history(signed(), signed(source=XINHUA, eid="signed-again")))
    assert (sourced_first.events, sourced_first.unsourced, len(sourced_first.cited)) == (2, 0, 3)


# -- what the stream refuses -----------------------------------------------------------------------


def stream(*facts):
    commitment = Commitment("visa")
    for f in [parse_line(registered("visa")), *facts]:
        commitment.append(f)
    return commitment


@pytest.mark.parametrize("facts, late, message", [
    ([signed(), cited()], cited(eid="cite-the-cite", cites="cite"),
     "'cite' is itself a SourceCited: name the fact it is about"),
    ([signed(), claim()], claim(eid="claim-the-claim", conflicts_with="claim"),
     "'claim' is itself a ClaimConflicted: name the fact it is about"),
    ([signed()], claim(eid="same", on="2023-05-17"),
     "same: the claim says what 'signed' records; record a SourceCited instead"),
    ([signed()], settled("claim accepted", settles="signed"),
     "'signed' is a DocumentSigned, not a ClaimConflicted: only a conflicting claim is settled"),
    ([signed(), cited()], settled("claim accepted", settles="cite"),
     "'cite' is a SourceCited, not a ClaimConflicted"),
    ([signed(), claim(), settled("recorded fact stands")], settled("claim accepted", eid="again"),
     "claim 'claim' was already settled by 'settled'"),
    ([signed(), claim(), retracted("signed")], settled("claim accepted"),
     "claim 'claim' contradicts 'signed', which was retracted: retract the claim instead"),
    ([signed(), claim(), retracted("signed")], settled("recorded fact stands"),
     "claim 'claim' contradicts 'signed', which was retracted"),
])
def test_a_stream_refuses_an_annotation_of_the_wrong_fact(facts, late, message):
    commitment = stream(*facts)
    with pytest.raises(ImpossibleTransition, match=message):
        commitment.append(late)
    assert len(commitment) == len(facts) + 1


def test_a_claim_that_changes_one_field_of_several_is_taken():
    commitment = stream(signed())
    commitment.append(claim(occurred_on="2023-05-17", place="Astana"))
    assert len(commitment) == 3


def test_a_settlement_retracted_can_be_made_again():
    commitment = stream(signed(), claim(), settled("recorded fact stands"), retracted("settled"))
    commitment.append(settled("claim accepted", eid="settled-again"))
    assert commitment.status.signed_on == "2023-05-18"


def test_an_accepted_claim_the_fact_cannot_take_is_refused_when_settled():
    commitment = stream(signed(), claim(place="Astana"))
    commitment.append(settled("recorded fact stands", eid="kept"))
    assert commitment.status.open_claims == 0


def test_a_claim_on_a_corrected_fact_is_judged_against_the_correction():
    correction = note("EventCorrected", "fix", corrects="signed", reason="the decree", changes={"place": "Xian"})
    commitment = stream(signed(), correction)
    with pytest.raises(ImpossibleTransition, match="the claim says what 'signed' records"):
        commitment.append(claim(place="Xian", occurred_on="2023-05-17"))
    commitment.append(claim(place="Astana", occurred_on="2023-05-17"))


def test_a_claim_of_a_field_the_fact_does_not_have_is_bad_input():
    with pytest.raises(InvalidInput, match="DocumentSigned has no field colour to contradict"):
        stream(signed()).append(claim(colour="red"))


def test_two_open_claims_are_two():
    status = evaluate("visa", history(signed(), claim(), claim(eid="other", on="2023-05-19")))
    assert status.open_claims == 2


def test_a_source_once_official_stays_official_whatever_kind_it_is_cited_as_later():
    as_news = {**AKORDA, "kind": "news agency"}
    status = evaluate("visa", history(signed(), cited(source=as_news)))
    assert sorted(status.cited.values()) == [False, True]  # the registration's source, and the Akorda


def test_a_fact_sourced_by_a_later_copy_is_unsourced_no_more_and_only_once():
    unsourced = fact("DocumentSigned", "signed", occurred_on="2023-05-17", instrument="agreement", source=None)
    status = evaluate("visa", history(unsourced, signed(eid="again"), signed(source=XINHUA, eid="third")))
    assert (status.events, status.unsourced) == (2, 0)


def test_citations_and_claims_say_what_they_add_in_one_line():
    assert cited(source=[XINHUA, TENGRI]).summary() == (
        "signed also reported by Visa exemption agreed, Xinhua [news agency]; Signed on 18 May, Tengrinews [news agency]")
    assert claim(place="Astana", occurred_on="2023-05-18").summary() == (
        "conflicting claim on signed: occurred_on 2023-05-18, place Astana")


def test_each_source_gets_the_key_of_who_it_is_however_many_sources_come_and_go():
    import gc

    from events.base import Source
    from events.rules import source_key

    def fresh(number: int) -> Source:
        return Source(title=f"Report {number}", publisher="Akorda")

    keys = {}
    for number in range(5_000):  # past the memo's size, with sources freed and memory reused
        source = fresh(number)
        keys[number] = source_key(source)
        assert source_key(source) == keys[number]
        del source
        gc.collect(0)
    assert len(set(keys.values())) == 5_000
    assert all(source_key(fresh(number)) == key for number, key in keys.items())
    assert source_key(Source(title="Report 7", publisher="Akorda", kind="government")) == keys[7]  # kind aside
