"""The rules of a commitment carried by several instruments, each on its own legal track."""

import pytest

from events import parse_line
from events.errors import ImpossibleTransition
from events.rules import evaluate
from projections.views import instrument_chain
from tests.builders import fact, registered

PROTOCOL = "astana-2024-transit-protocol"


def history(*facts, binding=True):
    numbered = []
    for n, f in enumerate([parse_line(registered("road", binding=binding)), *facts], 1):
        numbered.append(f.model_copy(update={"originator_version": n}))
    return numbered


def on_road(type_, event_id, occurred_on, **fields):
    return fact(type_, event_id, cid="road", occurred_on=occurred_on, **fields)


def agreement_in_force():
    return [on_road("DocumentSigned", "signed", "2023-05-17", instrument="agreement", place="Xian"),
            on_road("EnteredIntoForce", "in-force", "2023-11-10")]


def protocol(on="2024-07-03", **fields):
    return on_road("DocumentSigned", "protocol", on, instrument="protocol", instrument_id=PROTOCOL, place="Astana",
                   **fields)


def test_an_amending_protocol_has_its_own_track_and_leaves_the_agreement_in_force_as_the_commitments_status():
    status = evaluate("road", history(
        *agreement_in_force(), protocol(),
        on_road("InstrumentsRelated", "amends", "2024-07-03", instrument_id=PROTOCOL, relation="amends",
                other_instrument_id="road"),
        on_road("DomesticProcedureStepTaken", "kz-vote", "2024-10-01", party="KZ", step="lower chamber approved")))
    assert (status.legal_status, status.legal_since, status.instrument_id) == ("in force", "2023-11-10", "road")
    assert status.current_instrument()["in_force_on"] == "2023-11-10"
    pending = next(i for i in status.instruments if i["id"] == PROTOCOL)
    assert (pending["legal_status"], pending["steps"], pending["procedures"]) == (
        "domestic procedures", {"KZ": "lower chamber approved"}, {})
    assert instrument_chain(status)["instruments"] == (
        "agreement (2023-05-17, Xian) → protocol (2024-07-03, Astana): in force")


def test_a_fact_naming_no_instrument_is_about_the_latest_signed_before_it_in_world_order():
    before = on_road("Suspended", "suspended", "2024-03-01", track="legal")
    after = on_road("DomesticProcedureCompleted", "kz", "2024-09-01", party="KZ", procedure="ratification")
    # Learnt in any order: each is placed by when it happened.
    status = evaluate("road", history(after, protocol(), before, *agreement_in_force()))
    agreement, later = status.instruments
    assert agreement["legal_status"] == "suspended"
    assert (later["legal_status"], later["procedures"]) == ("domestic procedures", {"KZ": "2024-09-01"})
    assert (status.legal_status, status.next_step()) == ("domestic procedures", ("domestic procedures: CN", None))


def test_a_later_instruments_binding_comes_from_its_type_unless_its_signing_says():
    memorandum = on_road("DocumentSigned", "memo", "2023-05-17", instrument="memorandum", place="Xian")
    plan = on_road("DocumentSigned", "plan", "2024-07-03", instrument="plan", instrument_id="plan")
    assert evaluate("road", history(memorandum, plan, binding=False)).binding is False
    unsaid = evaluate("road", history(memorandum, protocol(), binding=False))
    assert (unsaid.binding, unsaid.next_step()) == (True, ("domestic procedures: CN, KZ", None))
    said = evaluate("road", history(memorandum, protocol(binding=False), binding=False))
    assert (said.binding, said.next_step()) == (False, ("implementation", None))


def test_each_instrument_follows_its_own_rule_for_the_step_that_completes_a_party_and_the_date_due():
    status = evaluate("road", history(
        *agreement_in_force(),
        protocol(entry_into_force={"days_after_last_notification": 30, "completed_by": ["notification sent"]}),
        on_road("DomesticProcedureStepTaken", "kz-law", "2024-10-01", party="KZ", step="law signed"),
        on_road("DomesticProcedureStepTaken", "kz-note", "2024-10-15", party="KZ", step="notification sent"),
        on_road("DomesticProcedureStepTaken", "cn-note", "2024-11-01", party="CN", step="notification sent")))
    assert status.next_step() == ("entry into force", "2024-12-01")


def test_a_resumption_returns_the_instrument_it_names_to_where_it_was():
    status = evaluate("road", history(
        *agreement_in_force(), protocol(),
        on_road("ProvisionallyApplied", "applied", "2024-08-01", instrument_id=PROTOCOL),
        on_road("Suspended", "suspended", "2024-09-01", track="legal", instrument_id=PROTOCOL),
        on_road("Resumed", "resumed", "2024-10-01", track="legal", instrument_id=PROTOCOL)))
    assert (status.legal_status, status.legal_since, status.instrument_id) == (
        "provisionally applied", "2024-10-01", PROTOCOL)


def test_terminating_one_instrument_by_another_ends_it_and_the_commitment_shows_what_carries_it():
    status = evaluate("road", history(
        *agreement_in_force(), protocol(),
        on_road("InstrumentsRelated", "ends", "2024-07-03", instrument_id=PROTOCOL, relation="terminates",
                other_instrument_id="road")))
    assert status.legal_status == "terminated"
    assert instrument_chain(status)["instruments"] == (
        "agreement (2023-05-17, Xian) → protocol (2024-07-03, Astana): terminated")


def test_a_relation_to_an_instrument_not_signed_by_then_is_impossible_and_says_what_to_record():
    with pytest.raises(ImpossibleTransition, match="no instrument 'memo' was signed by then: record its signing"
                       r" first \(DocumentSigned with instrument_id\)"):
        evaluate("road", history(*agreement_in_force(), protocol(), on_road(
            "InstrumentsRelated", "rel", "2024-07-03", instrument_id=PROTOCOL, relation="follows up",
            other_instrument_id="memo")))


def test_instrument_id_on_the_implementation_track_is_refused_as_bad_input():
    with pytest.raises(ValueError, match="instrument_id names an instrument's legal track"):
        on_road("Suspended", "s", "2024-01-01", track="implementation", instrument_id=PROTOCOL)


def relation(event_id, on, this, how, other):
    return on_road("InstrumentsRelated", event_id, on, instrument_id=this, relation=how, other_instrument_id=other)


def test_an_instrument_cannot_carry_forward_one_that_already_carries_it_forward():
    follows_up = relation("follows-up", "2024-07-03", PROTOCOL, "follows up", "road")
    with pytest.raises(ImpossibleTransition, match="road supersedes astana-2024-transit-protocol on 2024-07-04 is"
                                                   " impossible: astana-2024-transit-protocol already carries road"
                                                   " forward"):
        evaluate("road", history(*agreement_in_force(), protocol(), follows_up,
                                 relation("cycle", "2024-07-04", "road", "supersedes", PROTOCOL)))


def test_an_instrument_that_was_superseded_relates_to_no_other_later():
    supersedes = relation("supersedes", "2024-07-03", PROTOCOL, "supersedes", "road")
    with pytest.raises(ImpossibleTransition, match="road amends astana-2024-transit-protocol on 2024-07-04 is"
                                                   " impossible: road was superseded on 2024-07-03$"):
        evaluate("road", history(*agreement_in_force(), protocol(), supersedes,
                                 relation("amends", "2024-07-04", "road", "amends", PROTOCOL)))
