"""Memorable test data: the Xian visit, in as few words as a test needs."""

from __future__ import annotations

SOURCE = {"title": "Astana press report", "publisher": "Akorda press service", "published_on": "2023-05-18"}


def line(type_: str, event_id: str, **fields) -> dict:
    """One JSON Lines event with a source, as users write them."""
    return {"type": type_, "event_id": event_id, "source": SOURCE, **fields}


def registered(cid: str = "visa", *, binding: bool = True, **fields) -> dict:
    return line(
        "CommitmentRegistered", f"{cid}-registered", commitment_id=cid, occurred_on="2023-05-17",
        kind="agreement", title=f"Agreement {cid}", binding=binding,
        parties=[{"country": "KZ"}, {"country": "CN"}], **fields,
    )


def fact(type_: str, event_id: str, cid: str = "visa", occurred_on: str = "2023-05-17", **fields):
    from events import parse_line

    return parse_line(line(type_, event_id, commitment_id=cid, occurred_on=occurred_on, **fields))


def long_history(app, milestones: int = 250) -> None:  # noqa: ANN001
    """The visa exemption registered, then ``milestones`` milestones: past a snapshot at 200."""
    from events import parse_line

    app.record(parse_line(registered("visa", binding=False)))
    app.record_many([fact("MilestoneReached", f"m{n}", occurred_on="2024-01-01", milestone=f"step {n}")
                     for n in range(milestones)])
