"""What a status keeps: a clone shares nothing with its original, a correction names the fields
it cannot take, and which state each refusal names."""

import copy

import pytest

from events import parse_line
from events.rules import InvalidCorrection, apply_changes, evaluate
from tests.builders import fact, registered

AKORDA = {"title": "Xian documents", "publisher": "Akorda", "kind": "government"}


def rich_status():
    """A status with something in every one of its containers."""
    facts = [parse_line(registered("visa", lifecycle="plan")),
             fact("DocumentSigned", "signed", occurred_on="2023-05-17", instrument="agreement"),
             fact("DomesticProcedureStepTaken", "kz-law", occurred_on="2023-06-01", party="KZ", step="law signed"),
             fact("CommitmentsRelated", "rel", occurred_on="2023-06-02", relation="related to",
                  other_commitment_id="road"),
             fact("StepExpected", "exp", occurred_on="2023-06-03", step="entry into force", expected_on="2024"),
             fact("TargetSet", "t", occurred_on="2023-06-04", target="a forum", due_on="2025"),
             fact("MilestoneReached", "m", occurred_on="2023-06-05", milestone="held", meets="a forum", party="KZ"),
             fact("DocumentSigned", "protocol", occurred_on="2023-07-01", instrument="protocol", instrument_id="p",
                  source=AKORDA),
             fact("InstrumentsRelated", "amends", occurred_on="2023-07-01", instrument_id="p", relation="amends",
                  other_instrument_id="visa")]
    return evaluate("visa", [f.model_copy(update={"originator_version": n}) for n, f in enumerate(facts, 1)])


# What folding changes in place (the other fields it replaces whole).
FILLED_IN_PLACE = ("procedures", "related_commitments", "expected", "targets", "met", "by_party", "cited", "seen")


def scribble(status):
    """Change in place every container that folding changes in place."""
    for name in FILLED_IN_PLACE:
        value = getattr(status, name)
        value.append("scribbled") if isinstance(value, list) else value.update(scribbled="yes")
    for instrument in status.instruments:
        for relation in instrument["relations"]:
            relation.append("scribbled")
        instrument["relations"].append(["scribbled"])
        instrument["procedures"]["scribbled"] = instrument["steps"]["scribbled"] = instrument["type"] = "yes"
    status.instruments.append({})


def test_a_clone_equals_its_original_and_shares_nothing_folding_changes_in_place():
    original = rich_status()
    before = copy.deepcopy(original.to_dict())
    assert all(before[name] for name in (*FILLED_IN_PLACE, "instruments"))
    clone = original.clone()
    assert clone.to_dict() == before
    scribble(clone)
    assert original.to_dict() == before


@pytest.mark.parametrize("changes, what, message", [
    ({"colour": "red"}, "correction", "DocumentSigned has no field colour to correct"),
    ({"colour": "red", "size": 3}, "correction", "DocumentSigned has no field colour, size to correct"),
    ({"colour": "red"}, "claim", "DocumentSigned has no field colour to contradict"),
    ({"instrument": "pact"}, "claim", "claim is invalid: DocumentSigned: instrument: Input should be"),
])
def test_a_change_the_fact_cannot_take_is_bad_input_naming_what_makes_it(changes, what, message):
    signed = fact("DocumentSigned", "signed", occurred_on="2023-05-17", instrument="agreement")
    with pytest.raises(InvalidCorrection) as refused:
        apply_changes(signed, changes, what)
    assert str(refused.value).startswith(message)


def test_a_change_keeps_the_facts_place_in_its_stream():
    signed = fact("DocumentSigned", "signed", occurred_on="2023-05-17", instrument="agreement").model_copy(
        update={"originator_version": 7})
    changed = apply_changes(signed, {"place": "Xian"})
    assert (changed.place, changed.originator_version, changed.occurred_on) == ("Xian", 7, "2023-05-17")
