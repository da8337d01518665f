"""Histories of the visa agreement (KZ and CN) in as few words as a rule's test needs."""

from __future__ import annotations

from datetime import datetime, timezone

from events import parse_line
from tests.builders import fact, registered


def history(*facts, binding=True, **fields):
    """The registration then ``facts``, numbered in the order given: the recording order."""
    recorded = [parse_line({**registered("visa", binding=binding), **fields}), *facts]
    return [f.model_copy(update={"originator_version": n}) for n, f in enumerate(recorded, 1)]


def signed(on="2023-05-17", eid="signed"):
    return fact("DocumentSigned", eid, occurred_on=on, instrument="agreement")


def ratified(party, on="2023-09-01", eid=None):
    return fact("DomesticProcedureCompleted", eid or f"{party.lower()}-ratified", occurred_on=on,
                party=party, procedure="ratification")


def provisional(on="2023-07-01", eid="provisional"):
    return fact("ProvisionallyApplied", eid, occurred_on=on)


def in_force(on="2023-11-10", eid="in-force"):
    return fact("EnteredIntoForce", eid, occurred_on=on)


def suspended(track="legal", on="2024-01-01", eid=None):
    return fact("Suspended", eid or f"{track}-suspended", occurred_on=on, track=track)


def resumed(track="legal", on="2024-03-01", eid=None):
    return fact("Resumed", eid or f"{track}-resumed", occurred_on=on, track=track)


def implementation(status, on="2023-09-01", eid=None):
    return fact("ImplementationStatusChanged", eid or f"now-{status.replace(' ', '-')}", occurred_on=on,
                status=status)


def milestone(on="2023-10-01", eid="milestone"):
    return fact("MilestoneReached", eid, occurred_on=on, milestone="first flight")


def contracts(on="2023-10-01", eid="contracts"):
    return fact("CommercialContractsSigned", eid, occurred_on=on, value="1500000.00")


def branch(on="2024-09-01", eid="branch"):
    return fact("UniversityBranchOpened", eid, occurred_on=on, university="Xian University", city="Almaty")


def sister_cities(on="2024-09-01", eid="sister-cities"):
    return fact("SisterCityTieEstablished", eid, occurred_on=on, cities=[
        {"country": "KZ", "institution": "Almaty"}, {"country": "CN", "institution": "Xian"}])


ENDINGS = {
    "terminated": lambda on="2025-01-01": fact("Terminated", "terminated", occurred_on=on),
    "withdrawn": lambda on="2025-01-01": fact("Withdrawn", "withdrawn", occurred_on=on, party="KZ"),
    "expired": lambda on="2025-01-01": fact("Expired", "expired", occurred_on=on),
    "superseded": lambda on="2025-01-01": fact("Superseded", "superseded", occurred_on=on),
    "lapsed": lambda on="2025-01-01": fact("Lapsed", "lapsed", occurred_on=on),
}


def at(year, month, day, hour=0):
    return datetime(year, month, day, hour, tzinfo=timezone.utc)
