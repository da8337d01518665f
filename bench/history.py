"""A realistic synthetic history: many commitments, every event type, some learnt out of order."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Iterator

SOURCES = [
    {"title": "Akorda press service", "publisher": "Akorda", "published_on": "2023-05-18"},
    {"title": "Xinhua report", "publisher": "Xinhua"},
    {"title": "Ministry of Foreign Affairs of Kazakhstan", "address": "https://www.gov.kz/memleket/entities/mfa"},
]
# Sources that report the same facts again: a news agency; an official one.
OTHER_SOURCES = [{"title": "Kazinform report", "publisher": "Kazinform", "kind": "news agency"},
                 {"title": "Ministry of Foreign Affairs statement", "kind": "government"}]
KINDS = [("agreement", True, "agreement"), ("memorandum", False, "memorandum"), ("plan", False, "plan"),
         ("protocol", True, "protocol")]
SECTORS = ["transport", "energy", "trade", "education", "culture", "mobility", "media", "finance"]
COUNTRIES = ["KZ", "CN", "UZ", "KG", "RU", "TR", "AZ", "MN"]


# The last day a generated fact may take: a fact dated after it is recorded is refused, so long
# histories end there (facts of one day keep the legal process's order).
LAST_DAY = date(2025, 12, 31)


def day(base: date, offset: int) -> str:
    return min(base + timedelta(days=offset), LAST_DAY).isoformat()


def commitment_history(rnd: random.Random, cid: str, meeting: str, size: int, clean: bool = False) -> list[dict]:
    """One commitment's facts in *recording* order (sometimes not world order, unless ``clean``)."""
    kind, binding, instrument = rnd.choice(KINDS)
    a, b = rnd.sample(COUNTRIES, 2)
    start = date(2023, 1, 1) + timedelta(days=rnd.randint(0, 700))
    src = rnd.choice(SOURCES)
    base = {"commitment_id": cid, "source": src}
    facts = [{"type": "CommitmentRegistered", "event_id": f"{cid}-reg", "occurred_on": day(start, 0),
              "kind": kind, "title": f"{kind.title()} on {rnd.choice(SECTORS)} {cid}", "binding": binding,
              "parties": [{"country": a, "institution": "Government"}, {"country": b}], "meeting_id": meeting,
              "sector": rnd.choice(SECTORS), **({"target_on": str(start.year + 2)} if rnd.random() < 0.3 else {}),
              **base}]
    legal = [{"type": "DocumentSigned", "event_id": f"{cid}-signed", "occurred_on": day(start, 1),
              "instrument": instrument, "place": "Xian", **base}]
    t = 30
    number = int(cid.lstrip("c") or 0)  # some shapes go by the commitment's number: no draw, same history otherwise
    if binding:
        for party in (a, b):
            # now and then a date not published, known only to precede the next step
            on = f"../{day(start, t)}" if party == a and rnd.random() < 0.2 else day(start, t)
            if number % 4 == 1 and party == a:  # a chamber's vote, then the law signed
                legal.append({"type": "DomesticProcedureStepTaken", "event_id": f"{cid}-vote-{party}",
                              "occurred_on": day(start, t - 10), "party": party, "step": "upper chamber approved",
                              **base})
                legal.append({"type": "DomesticProcedureStepTaken", "event_id": f"{cid}-dp-{party}",
                              "occurred_on": on, "party": party, "step": "law signed", **base})
            else:
                legal.append({"type": "DomesticProcedureCompleted", "event_id": f"{cid}-dp-{party}",
                              "occurred_on": on, "party": party, "procedure": "notification", **base})
            t += rnd.randint(5, 60)
        if rnd.random() < 0.3:
            legal.append({"type": "StepExpected", "event_id": f"{cid}-eif-expected", "occurred_on": day(start, t - 3),
                          "step": "entry into force", "expected_on": day(start, t)[:7], **base})
        if rnd.random() < 0.2:
            legal.insert(1, {"type": "ProvisionallyApplied", "event_id": f"{cid}-pa", "occurred_on": day(start, 10),
                             **base})
        if rnd.random() < 0.1:
            legal.append({"type": "VisaExemptionEnteredIntoForce", "event_id": f"{cid}-eif", "occurred_on": day(start, t),
                          "stay_days": 30, "max_days_per_period": 90, "period_days": 180, **base})
        else:
            legal.append({"type": "EnteredIntoForce", "event_id": f"{cid}-eif", "occurred_on": day(start, t), **base})
    if not clean and rnd.random() < 0.25 and len(legal) > 1:
        legal[0], legal[-1] = legal[-1], legal[0]  # learnt of the signing after the entry into force
    facts += legal
    if not binding and number % 5 == 2:  # carried forward by a binding agreement, under way
        agreement = f"{cid}-agreement"
        facts += [
            {"type": "DocumentSigned", "event_id": f"{cid}-signed-2", "occurred_on": day(start, 2),
             "instrument": "agreement", "instrument_id": agreement, "place": "Astana", **base},
            {"type": "InstrumentsRelated", "event_id": f"{cid}-follows", "occurred_on": day(start, 2),
             "instrument_id": agreement, "relation": "follows up", "other_instrument_id": cid, **base},
            {"type": "CommitmentsRelated", "event_id": f"{cid}-related", "occurred_on": day(start, 2),
             "relation": "related to", "other_commitment_id": f"c{number + 1}", **base},
            {"type": "DomesticProcedureStepTaken", "event_id": f"{cid}-note-{a}", "occurred_on": day(start, 20),
             "party": a, "step": "notification sent", "instrument_id": agreement, **base},
            {"type": "DomesticProcedureStepTaken", "event_id": f"{cid}-vote-{b}", "occurred_on": day(start, 25),
             "party": b, "step": "lower chamber approved", **base},
        ]
    n = 0
    last_milestone = None
    claim = None  # a conflicting claim not settled yet
    completed = False  # a sister-city tie or a branch opened: implementation can go no further
    step = 20 if size <= 1000 else 1  # long histories advance slower, staying within the calendar
    while len(facts) < size - 3:
        t += rnd.randint(0 if step == 1 else 1, step)
        roll = rnd.random() * (0.9 if clean else 1.0)
        on = day(start, t)
        if roll < 0.70:
            facts.append({"type": "MilestoneReached", "event_id": f"{cid}-m{n}", "occurred_on": on,
                          "milestone": f"step {n}", **base})
            last_milestone = f"{cid}-m{n}"
        elif roll < 0.71 and kind == "plan":  # a plan's dated target, due two years on
            facts.append({"type": "TargetSet", "event_id": f"{cid}-t{n}", "occurred_on": on,
                          "target": f"target {n}", "due_on": str(start.year + 2), **base})
        elif roll < 0.71 and not completed:
            facts.append({"type": "ImplementationStatusChanged", "event_id": f"{cid}-s{n}", "occurred_on": on,
                          "status": "in implementation", **base})
        elif roll < 0.72:
            facts.append({"type": "CommercialContractsSigned", "event_id": f"{cid}-k{n}", "occurred_on": on,
                          "value": f"{rnd.randint(1, 900)}000000.00", "currency": rnd.choice(["USD", "CNY"]),
                          "approximate": rnd.random() < 0.5, "count": rnd.randint(1, 40), **base})
        elif roll < 0.725 and not completed:
            facts.append({"type": "SisterCityTieEstablished", "event_id": f"{cid}-city{n}", "occurred_on": on,
                          "cities": [{"country": "KZ", "institution": "Shymkent"},
                                     {"country": "CN", "institution": "Xian"}], **base})
            completed = True
        elif roll < 0.73 and not completed and n % 2:
            facts.append({"type": "UniversityBranchOpened", "event_id": f"{cid}-u{n}", "occurred_on": on,
                          "university": "Northwestern Polytechnical University", "city": "Almaty", **base})
            completed = True
        elif roll < 0.73 and not completed:  # a centre opened by one side, with what it cost
            facts.append({"type": "FacilityOpened", "event_id": f"{cid}-f{n}", "occurred_on": on,
                          "facility": "cultural centre", "city": "Almaty", "party": a,
                          "value": {"amount": "2000000", "currency": "USD"}, **base})
            completed = True
        elif roll < 0.9:
            facts.append({"type": "Assessed", "event_id": f"{cid}-a{n}", "occurred_on": on,
                          "score": rnd.choice([-1, 0, 1]), "note": "progress as reported", **base})
        elif roll < 0.94 and last_milestone:
            facts.append({"type": "EventCorrected", "event_id": f"{cid}-c{n}", "occurred_on": on,
                          "corrects": last_milestone, "reason": "misreported",
                          "changes": {"milestone": f"{last_milestone} (corrected)"}, "source": src})
            last_milestone = None
        elif roll < 0.95 and last_milestone:
            facts.append({"type": "EventRetracted", "event_id": f"{cid}-r{n}", "occurred_on": on,
                          "retracts": last_milestone, "reason": "no such step", "source": src})
            last_milestone = None
        elif roll < 0.96 and last_milestone:  # another source reports the same step
            facts.append({"type": "SourceCited", "event_id": f"{cid}-cite{n}", "occurred_on": on,
                          "cites": last_milestone, "source": OTHER_SOURCES[n % 2]})
        elif roll < 0.965 and last_milestone and not clean:  # or reports it a month later
            facts.append({"type": "ClaimConflicted", "event_id": f"{cid}-claim{n}", "occurred_on": on,
                          "conflicts_with": last_milestone, "claims": {"note": "reported a month later"},
                          "source": OTHER_SOURCES[0]})
            claim = f"{cid}-claim{n}"
            last_milestone = None
        elif roll < 0.97 and claim:
            facts.append({"type": "ClaimSettled", "event_id": f"{cid}-settled{n}", "occurred_on": on,
                          "settles": claim, "outcome": "recorded fact stands" if n % 2 else "claim accepted",
                          "reason": "checked against the ministry's statement", "source": SOURCES[2]})
            claim = None
        else:
            month = day(start, t)[:7]
            facts.append({"type": "MilestoneReached", "event_id": f"{cid}-mm{n}", "occurred_on": month,
                          "milestone": f"monthly report {n}", **base})
        n += 1
    if binding and rnd.random() < 0.3:
        facts.append({"type": "Suspended", "event_id": f"{cid}-susp", "occurred_on": day(start, t + 30),
                      "track": "legal", **base})
        facts.append({"type": "Resumed", "event_id": f"{cid}-res", "occurred_on": day(start, t + 90),
                      "track": "legal", **base})
    end = rnd.random()
    if end < 0.05:  # a few end, each in its own way
        ending = rnd.choice(["Terminated", "Withdrawn", "Expired", "Superseded"] if binding else ["Lapsed"])
        extra = {"Withdrawn": {"party": a}, "Superseded": {"superseded_by": f"{cid}-new"}}.get(ending, {})
        facts.append({"type": ending, "event_id": f"{cid}-end", "occurred_on": day(start, t + 120), **extra, **base})
    return facts


def generate(events: int, seed: int = 17, commitments: int | None = None, clean: bool = False) -> Iterator[dict]:
    """About ``events`` facts: meetings, commitments (of ~50 facts each unless their number is
    given), monthly trade figures. ``clean`` histories arrive in world order, uncorrected."""
    rnd = random.Random(seed)
    per = 50 if commitments is None else max(8, events // commitments)
    commitments = commitments or max(1, -(-events // per))
    meetings = max(1, commitments // 40)
    for m in range(meetings):
        yield {"type": "MeetingHeld", "event_id": f"meeting-{m}-held", "meeting_id": f"meeting-{m}",
               "occurred_on": "2023-05-17", "title": f"Summit {m}", "parties": [{"country": "KZ"}, {"country": "CN"}],
               "source": SOURCES[0]}
        yield {"type": "DocumentsReported", "event_id": f"meeting-{m}-count", "meeting_id": f"meeting-{m}",
               "occurred_on": "2023-05-17", "count": 22, "source": SOURCES[0]}
    budget = events - 2 * meetings - 40
    streams = [commitment_history(rnd, f"c{i}", f"meeting-{i % meetings}", per, clean) for i in range(commitments)]
    total = sum(len(s) for s in streams)
    # Interleave the commitments' histories as news would arrive, keeping each one's own order.
    cursors = [0] * len(streams)
    live = list(range(len(streams)))
    emitted = 0
    while live and emitted < budget:
        i = rnd.choice(live)
        yield streams[i][cursors[i]]
        cursors[i] += 1
        emitted += 1
        if cursors[i] == len(streams[i]):
            live.remove(i)
    for k in range(min(40, events)):
        year, month = 2020 + k // 12, k % 12 + 1
        yield {"type": "TradeFigureReported", "event_id": f"trade-{k}", "occurred_on": f"{year}-{month:02d}",
               "reporter": "KZ", "partner": "CN", "flow": "exports", "period": f"{year}-{month:02d}",
               "value": str(2_000_000_000 + k * 10_000_000), "change_pct": str(k % 7), "source": SOURCES[2]}
    del total


def long_commitment(cid: str, size: int) -> Iterator[dict]:
    """One commitment with ``size`` facts (for the record and history workloads)."""
    src = SOURCES[0]
    yield {"type": "CommitmentRegistered", "event_id": f"{cid}-reg", "commitment_id": cid, "occurred_on": "2023-05-17",
           "kind": "memorandum", "title": "Long-running memorandum", "binding": False,
           "parties": [{"country": "KZ"}, {"country": "CN"}], "source": src}
    start = date(2023, 6, 1)
    for n in range(size - 1):
        yield {"type": "MilestoneReached", "event_id": f"{cid}-m{n}", "commitment_id": cid,
               "occurred_on": day(start, n // 10), "milestone": f"step {n}", "source": src}


def write(path: Path, lines: Iterator[dict]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for line in lines:
            out.write(json.dumps(line, separators=(",", ":")) + "\n")
            count += 1
    return count
