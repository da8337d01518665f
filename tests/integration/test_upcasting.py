"""A store written by an older version still loads: old events are upcast on the way in."""

import shutil
from pathlib import Path

from tests.builders import fact
from tracker.application import Tracker
from tracker.config import resolve_store

FIXTURE = Path(__file__).parent.parent / "fixtures" / "v1-store.db"


def test_a_v1_registration_with_country_codes_loads_with_parties(tmp_path):
    store = tmp_path / "old.db"
    shutil.copy(FIXTURE, store)
    app = Tracker(resolve_store(str(store), str(tmp_path / "views.db")))
    [registered] = app.history("visa")
    assert [p.country for p in registered.parties] == ["KZ", "CN"]
    assert registered.title == "Mutual exemption from visa requirements"
    app.record(fact("DocumentSigned", "visa-signed", instrument="agreement"))
    assert app.status("visa").legal_status == "signed"


def test_the_stored_v1_bytes_are_left_as_they_were(tmp_path):
    import sqlite3

    store = tmp_path / "old.db"
    shutil.copy(FIXTURE, store)
    Tracker(resolve_store(str(store), str(tmp_path / "views.db"))).history("visa")
    state = sqlite3.connect(store).execute("SELECT state FROM stored_events WHERE originator_version = 1"
                                           " AND topic LIKE '%CommitmentRegistered'").fetchone()[0]
    assert b'"party_codes":["KZ","CN"]' in state
