"""Read-model tables as plain data, to compare two read-model files."""

from __future__ import annotations

from pathlib import Path

from projections.runner import open_views
from projections.schema import TABLES as SPECS

TABLES = ["commitments", "commitment_states", "commitment_parties", "timeline", "meetings", "meeting_reports", "indicators", "streams", "positions"]


def dump(path: Path) -> dict[str, list]:
    db = open_views(path)
    try:
        return {t: [tuple(r.values()) for r in db[t].rows_where(order_by=_key(SPECS[t]["pk"]))] for t in TABLES}
    finally:
        db.close()




def _key(pk: str | tuple[str, ...]) -> str:
    return pk if isinstance(pk, str) else ",".join(pk)
