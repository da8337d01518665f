"""Properties of the fold over random histories: world order, final states, monotone progress."""

from datetime import date, timedelta
from functools import partial

from hypothesis import given, settings
from hypothesis import strategies as st

from events.errors import ImpossibleTransition
from events.rules import evaluate
from tests.builders import fact
from tests.unit.rules_histories import (
    ENDINGS,
    branch,
    contracts,
    history,
    implementation,
    in_force,
    milestone,
    provisional,
    ratified,
    resumed,
    signed,
    suspended,
)


def ending(end, on, eid):
    return ENDINGS[end](on).model_copy(update={"event_id": eid})


STEPS = {
    "signed": lambda on, eid: signed(on, eid),
    "KZ ratified": lambda on, eid: ratified("KZ", on, eid),
    "CN ratified": lambda on, eid: ratified("CN", on, eid),
    "provisional": lambda on, eid: provisional(on, eid),
    "in force": lambda on, eid: in_force(on, eid),
    "visa-free": lambda on, eid: fact("VisaExemptionEnteredIntoForce", eid, occurred_on=on, stay_days=30),
    "legal suspended": lambda on, eid: suspended("legal", on, eid),
    "legal resumed": lambda on, eid: resumed("legal", on, eid),
    "work suspended": lambda on, eid: suspended("implementation", on, eid),
    "work resumed": lambda on, eid: resumed("implementation", on, eid),
    "milestone": lambda on, eid: milestone(on, eid),
    "contracts": lambda on, eid: contracts(on, eid),
    "branch": lambda on, eid: branch(on, eid),
    **{f"now {s}": partial(implementation, s)
       for s in ("announced", "committed", "in implementation", "completed", "cancelled")},
    **{end: partial(ending, end) for end in ENDINGS},
    "assessed": lambda on, eid: fact("Assessed", eid, occurred_on=on, score=0, note="as promised so far"),
}
LEGAL_STEPS = ["signed", "KZ ratified", "CN ratified", "provisional", "in force", "visa-free",
               "legal suspended", "legal resumed", *ENDINGS]
WORK_NEWS = ["milestone", "contracts", "branch", "now completed"]
BEFORE_FORCE = ["not signed", "signed", "domestic procedures", "provisionally applied", "in force"]
WORK = ["no evidence", "announced", "committed", "in implementation", "completed"]
FINAL = set(ENDINGS)

steps = st.lists(st.tuples(st.sampled_from(sorted(STEPS)), st.integers(1, 45)), max_size=12)
registrations = st.fixed_dictionaries({
    "binding": st.booleans(),
    "entry_into_force": st.sampled_from([None, {"days_after_last_notification": 30}]),
    "target_on": st.sampled_from([None, "2025", "2024-Q3"]),
})
thorough = settings(max_examples=80, deadline=None, derandomize=True, database=None)


def dated(chosen):
    """The chosen steps on strictly later days, each with an id of its own."""
    day, facts = date(2023, 1, 1), []
    for n, (name, gap) in enumerate(chosen):
        day += timedelta(days=gap)
        facts.append(STEPS[name](day.isoformat(), f"e{n}"))
    return facts


def outcome(facts, registration):
    """What a user is told: the status (but for the key of its last fact), or the refusal."""
    try:
        status = evaluate("visa", history(*facts, **registration))
    except ImpossibleTransition as refusal:
        return "refused", str(refusal)
    return status.to_dict() | {"last_key": None}, status.next_step()


def legal_prefix(facts, registration):
    """The facts that can be recorded one after another, each refused one left out."""
    kept = []
    for f in facts:
        try:
            evaluate("visa", history(*kept, f, **registration))
        except ImpossibleTransition:
            continue
        kept.append(f)
    return kept


@thorough
@given(steps, registrations, st.data())
def test_folding_the_same_facts_recorded_in_any_order_gives_the_same_answer(chosen, registration, data):
    facts = dated(chosen)
    recorded = data.draw(st.permutations(facts))
    assert outcome(recorded, registration) == outcome(facts, registration)


@thorough
@given(steps, registrations, st.sampled_from(LEGAL_STEPS), st.sampled_from(WORK_NEWS))
def test_nothing_happens_on_a_track_after_its_final_state(chosen, registration, legal_step, news):
    facts = legal_prefix(dated(chosen), registration)
    status = evaluate("visa", history(*facts, **registration))
    later = date(2026, 1, 1).isoformat()
    if status.legal_status in FINAL:
        assert status.next_step() == (None, None)
        assert outcome([*facts, STEPS[legal_step](later, "late")], registration)[0] == "refused"
    if status.implementation_status == "cancelled":
        assert status.next_step() == (None, None)
        assert outcome([*facts, STEPS[news](later, "late")], registration)[0] == "refused"


@thorough
@given(steps, registrations)
def test_progress_recorded_one_fact_after_another_never_goes_back(chosen, registration):
    facts = legal_prefix(dated(chosen), registration)
    before = evaluate("visa", history(**registration))
    for n in range(1, len(facts) + 1):
        now = evaluate("visa", history(*facts[:n], **registration))
        assert now.events == before.events + 1
        assert now.procedures.items() >= before.procedures.items()
        if before.legal_status in BEFORE_FORCE and now.legal_status in BEFORE_FORCE:
            assert BEFORE_FORCE.index(now.legal_status) >= BEFORE_FORCE.index(before.legal_status)
        if before.legal_status in FINAL:
            assert (now.legal_status, now.legal_since) == (before.legal_status, before.legal_since)
        if before.implementation_status in WORK and now.implementation_status in WORK:
            assert WORK.index(now.implementation_status) >= WORK.index(before.implementation_status)
        if before.implementation_status == "cancelled":
            assert now.implementation_status == "cancelled"
        step, due = now.next_step()
        assert due is None or isinstance(due, str)
        before = now
