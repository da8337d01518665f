"""The read-model tables: plain SQLite that any client can open.

Column descriptions double as documentation (and as Datasette labels).
"""

from __future__ import annotations

from typing import TypedDict

from events.rules_version import RULES_VERSION

READ_MODELS = ("board", "timeline", "meetings", "indicators")
# Read models made with another layout are dropped and built again from the events.
SCHEMA_VERSION = "4"  # 4: folded states as arrays (meta state_fields), timeline keyed by an index
# What the meta table says of read models that can be used as they are: their layout, and
# the status rules that folded them (those made before the rules were recorded: version 1).
BUILT_BY = {"schema": SCHEMA_VERSION, "rules": str(RULES_VERSION)}
_UNRECORDED = {"rules": "1"}


def built_here(meta: dict[str, str]) -> bool:
    """Whether read models whose meta table holds ``meta`` were made by this version."""
    return all(meta.get(key, _UNRECORDED.get(key)) == value for key, value in BUILT_BY.items())

class TableSpec(TypedDict, total=False):
    columns: dict[str, type]
    pk: str | tuple[str, ...]
    # The key is a unique index, and rows are stored in the order they are written: a
    # rebuild writes the timeline stream by stream, not in key order.
    keyed_by_index: bool
    about: str


TABLES: dict[str, TableSpec] = {
    "meta": {
        "columns": {"key": str, "value": str},
        "pk": "key",
        "about": "Which store these read models were built from",
    },
    "positions": {
        "columns": {"read_model": str, "position": int},
        "pk": "read_model",
        "about": "Last event notification each read model has processed",
    },
    "streams": {
        "columns": {"originator_id": str, "stream": str},
        "pk": "originator_id",
        "about": "Which commitment, meeting or indicator each stored stream belongs to",
    },
    "commitments": {
        "columns": {
            "commitment_id": str,
            "kind": str,
            "title": str,
            "parties": str,
            "meeting_id": str,
            "sector": str,
            "binding": int,
            "legal_status": str,
            "legal_since": str,
            "implementation_status": str,
            "last_change_on": str,
            "last_change": str,
            "last_event_id": str,
            "next_step": str,
            "next_step_due": str,
            "next_step_due_by": str,
            "signed_on": str,
            "in_force_on": str,
            "target_on": str,
            "assessment_score": int,
            "assessment_on": str,
            "events": int,
            "unsourced": int,
            "counted_in_meeting_total": int,
            "instrument": str,
            "instrument_id": str,
            "instruments": str,
            "lifecycle": str,
            "progress": str,
            "value": str,
            "value_amount": str,
            "value_currency": str,
            "sources": int,
            "official_sources": int,
            "open_claims": int,
        },
        "pk": "commitment_id",
        "about": "The status board: one row per commitment (see the status_board view for overdue)",
    },
    "commitment_states": {
        # Apart from the board: it is most of a row's bytes, and the board is read whole.
        "columns": {"commitment_id": str, "state": str},
        "pk": "commitment_id",
        "about": "Each commitment's folded status, from which the next event is folded on"
                 " (a JSON array: the values of the fields the meta row state_fields names, in that order)",
    },
    "commitment_parties": {
        "columns": {"commitment_id": str, "country": str, "institution": str},
        "pk": ("commitment_id", "country", "institution"),
        "about": "Who is party to each commitment",
    },
    "timeline": {
        "columns": {
            "position": int,
            "event_id": str,
            "type": str,
            "stream": str,
            "subject": str,
            "occurred_on": str,
            "precision": str,
            "starts_on": str,
            "ends_on": str,
            "rank": int,
            "version": int,
            "recorded_at": str,
            "summary": str,
            "source_title": str,
            "source_publisher": str,
            "source_published_on": str,
            "source_address": str,
            "sources": str,
            "note": str,
            "standing": str,
            "payload": str,
        },
        "pk": "position",
        "keyed_by_index": True,
        "about": "Every event in the store, with its source; order by starts_on, rank for world order",
    },
    "meetings": {
        "columns": {
            "meeting_id": str,
            "title": str,
            "place": str,
            "occurred_on": str,
            "parties": str,
            "identified": int,
        },
        "pk": "meeting_id",
        "about": "Meetings where documents were signed, and how many are identified",
    },
    "meeting_reports": {
        "columns": {
            "event_id": str,
            "meeting_id": str,
            "count": int,
            "unnamed": str,
            "occurred_on": str,
            "source_title": str,
            "source_publisher": str,
            "source_published_on": str,
            "source_address": str,
            "value": str,
            "sources": str,
        },
        "pk": "event_id",
        "about": "Each source's count of documents signed at a meeting; counts never overwrite each other",
    },
    "indicators": {
        "columns": {
            "event_id": str,
            "indicator": str,
            "reporter": str,
            "partner": str,
            "flow": str,
            "period": str,
            "period_starts_on": str,
            "value": float,
            "currency": str,
            "change_pct": float,
            "occurred_on": str,
            "source_title": str,
            "source_publisher": str,
            "source_address": str,
            "sources": str,
        },
        "pk": "event_id",
        "about": "Trade figures over time, one row per reported figure",
    },
}

INDEXES = [
    ("timeline", ["stream", "version"]),
    ("timeline", ["event_id"]),
    ("timeline", ["starts_on", "rank"]),
    ("commitments", ["meeting_id"]),
    ("commitment_parties", ["country", "institution"]),
    ("meeting_reports", ["meeting_id"]),
    ("indicators", ["period_starts_on"]),
]

VIEWS = {
    "status_board": """
        SELECT commitment_id, kind, title, parties, meeting_id, sector, binding,
               legal_status, legal_since, implementation_status, last_change_on, last_change,
               next_step, next_step_due,
               CASE WHEN next_step_due_by IS NOT NULL AND next_step_due_by < date('now')
                    THEN 1 ELSE 0 END AS overdue
        FROM commitments ORDER BY commitment_id
    """,
    "parties": """
        SELECT p.country, '' AS institution,
               COUNT(DISTINCT c.commitment_id) AS commitments,
               SUM(c.legal_status != 'not signed') AS signed,
               SUM(c.legal_status = 'in force') AS in_force,
               SUM(c.implementation_status = 'completed') AS completed,
               SUM(c.next_step_due_by IS NOT NULL AND c.next_step_due_by < date('now')) AS overdue
        FROM (SELECT DISTINCT commitment_id, country FROM commitment_parties) p
        JOIN commitments c USING (commitment_id)
        GROUP BY p.country
        UNION ALL
        SELECT p.country, p.institution,
               COUNT(DISTINCT c.commitment_id),
               SUM(c.legal_status != 'not signed'),
               SUM(c.legal_status = 'in force'),
               SUM(c.implementation_status = 'completed'),
               SUM(c.next_step_due_by IS NOT NULL AND c.next_step_due_by < date('now'))
        FROM commitment_parties p JOIN commitments c USING (commitment_id)
        WHERE p.institution != ''
        GROUP BY p.country, p.institution
        ORDER BY 1, 2
    """,
}
