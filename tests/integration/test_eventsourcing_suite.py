"""eventsourcing's own test cases, run against what the tracker puts in its place: the SQLite
and PostgreSQL recorders and factories, the pydantic mapper and the orjson transcoder.

On real SQLite files and the real PostgreSQL server (a schema of its own per test). What the
tracker narrows on purpose is skipped by name, with the reason."""

from __future__ import annotations

import shutil
import tempfile
import unittest
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import psycopg
from eventsourcing.cipher import AESCipher
from eventsourcing.postgres import (
    PostgresDatastore,
    PostgresProcessRecorder,
    PostgresTrackingRecorder,
)
from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteDatastore, SQLiteProcessRecorder, SQLiteTrackingRecorder
from eventsourcing.tests import persistence as library  # its cases by module: pytest would collect them as named here
from eventsourcing.utils import Environment, get_topic
from psycopg import sql

from events.errors import StoreUnreadable
from tests.builders import fact
from tests.conftest import postgres_url
from tracker.persistence import OrjsonTranscoder, PydanticMapper, SQLiteFactory, SQLiteStoreRecorder
from tracker.postgres import PostgresFactory, PostgresSnapshotRecorder, PostgresStoreRecorder

NO_TRANSCODINGS = ("the tracker registers no transcodings: pydantic models serialise themselves, and "
                   "OrjsonTranscoder gives back plain JSON types (no tuples, subclasses or custom types)")


def skipped(reason: str, *names: str) -> dict[str, Any]:
    """Replacements for these inherited test methods: a skip that says why."""

    def skip(self: unittest.TestCase) -> None:
        self.skipTest(reason)

    return dict.fromkeys(names, skip)


class OnSQLiteFiles(unittest.TestCase):
    """A fresh folder for the test's SQLite files, removed after it."""

    def setUp(self) -> None:
        self.make_folder()
        super().setUp()

    def make_folder(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="tracker-suite-"))
        self.addCleanup(shutil.rmtree, self.folder, True)
        self.files = 0

    def sqlite_file(self) -> str:
        self.files += 1
        return str(self.folder / f"events-{self.files}.db")


class OnPostgres(unittest.TestCase):
    """A schema of its own on the test server, dropped after the test (skipped without a
    server, failed without one in CI)."""

    def setUp(self) -> None:
        self.make_schema()
        super().setUp()

    def make_schema(self) -> None:
        url = urlsplit(postgres_url())
        self.schema = parse_qs(url.query)["schema"][0]
        self.server = {"dbname": url.path.lstrip("/"), "host": url.hostname or "localhost",
                       "port": str(url.port or 5432), "user": url.username or "postgres", "password": url.password or ""}
        self.on_server(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.schema)))
        self.addCleanup(self.on_server, sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema)))

    def on_server(self, statement: sql.Composed) -> None:
        with psycopg.connect(**{**self.server, "password": self.server["password"] or None}, autocommit=True) as conn:
            conn.execute(statement)

    def datastore(self, **options: Any) -> PostgresDatastore:
        s = self.server
        return PostgresDatastore(s["dbname"], s["host"], s["port"], s["user"], s["password"], schema=self.schema,
                                 **options)


# -- the recorders --------------------------------------------------------------


class TestSQLiteStoreRecorder(OnSQLiteFiles, library.ApplicationRecorderTestCase[SQLiteStoreRecorder]):
    def create_recorder(self) -> SQLiteStoreRecorder:
        recorder = SQLiteStoreRecorder(SQLiteDatastore(db_name=self.sqlite_file(), pool_size=100))
        recorder.create_table()
        return recorder


class TestSQLiteStoreRecorderKeepsWritesApart(OnSQLiteFiles, library.NonInterleavingNotificationIDsBaseCase):
    def create_recorder(self) -> SQLiteStoreRecorder:
        recorder = SQLiteStoreRecorder(SQLiteDatastore(db_name=self.sqlite_file()))
        recorder.create_table()
        return recorder


class TestPostgresStoreRecorder(OnPostgres, library.ApplicationRecorderTestCase[PostgresStoreRecorder]):
    def create_recorder(self) -> PostgresStoreRecorder:
        recorder = PostgresStoreRecorder(self.datastore(pool_size=4, max_overflow=8))
        recorder.create_table()
        return recorder

    def test_insert_subscribe(self) -> None:
        self.optional_test_insert_subscribe()


class TestPostgresSnapshotRecorder(OnPostgres, library.AggregateRecorderTestCase):
    def create_recorder(self) -> PostgresSnapshotRecorder:
        recorder = PostgresSnapshotRecorder(self.datastore())
        recorder.create_table()
        return recorder


class TestPostgresStoreRecorderKeepsWritesApart(OnPostgres, library.NonInterleavingNotificationIDsBaseCase):
    insert_num = 3_000  # each write takes several statements

    def create_recorder(self) -> PostgresStoreRecorder:
        recorder = PostgresStoreRecorder(self.datastore(pool_size=2))
        recorder.create_table()
        return recorder


# -- the factories, with the tracker's mapper and transcoder ---------------------

TRACKER_MAPPING = {"MAPPER_TOPIC": "tracker.persistence:PydanticMapper",
                   "TRANSCODER_TOPIC": "tracker.persistence:OrjsonTranscoder"}


class TrackerMapping(library.InfrastructureFactoryTestCase[Any]):
    """The factory cases with the tracker's mapper and transcoder in the environment."""

    def setUp(self) -> None:
        super().setUp()
        self.transcoder = self.factory.transcoder()

    def test_the_mapper_and_transcoder_are_the_trackers(self) -> None:
        mapper = self.factory.mapper()
        self.assertIsInstance(mapper, PydanticMapper)
        self.assertIsInstance(mapper.transcoder, OrjsonTranscoder)

    def test_mapper_with_wrong_cipher_key(self) -> None:
        """The library's case with one of the tracker's events: its mapper maps pydantic events only."""
        self.env.name = "App1"
        self.env[self.factory.CIPHER_TOPIC] = get_topic(AESCipher)
        self.env["APP1_" + AESCipher.CIPHER_KEY] = AESCipher.create_key(16)
        self.env["APP2_" + AESCipher.CIPHER_KEY] = AESCipher.create_key(16)
        event = fact("DocumentSigned", "visa-signed", instrument="agreement").model_copy(
            update={"originator_id": uuid4(), "originator_version": 1})
        stored = self.factory.mapper().to_stored_event(event)
        self.assertEqual(self.factory.mapper().to_domain_event(stored), event)

        self.env.name = "App2"
        with self.assertRaises(StoreUnreadable):
            self.factory.mapper().to_domain_event(stored)


class MySQLiteTrackingRecorder(SQLiteTrackingRecorder):
    pass


class MyPostgresTrackingRecorder(PostgresTrackingRecorder):
    pass


class TestSQLiteFactory(OnSQLiteFiles, TrackerMapping):
    def setUp(self) -> None:
        self.make_folder()
        self.env = Environment("TestCase", {"PERSISTENCE_MODULE": "tracker.persistence:SQLiteFactory",
                                            "SQLITE_DBNAME": self.sqlite_file(), **TRACKER_MAPPING})
        TrackerMapping.setUp(self)

    def expected_factory_class(self) -> type:
        return SQLiteFactory

    def expected_aggregate_recorder_class(self) -> type:
        return SQLiteAggregateRecorder

    def expected_application_recorder_class(self) -> type:
        return SQLiteStoreRecorder

    def expected_tracking_recorder_class(self) -> type:
        return SQLiteTrackingRecorder

    def tracking_recorder_subclass(self) -> type:
        return MySQLiteTrackingRecorder

    def expected_process_recorder_class(self) -> type:
        return SQLiteProcessRecorder


class TestPostgresFactory(OnPostgres, TrackerMapping):
    def setUp(self) -> None:
        self.make_schema()
        s = self.server
        self.env = Environment("TestCase", {
            "PERSISTENCE_MODULE": "tracker.postgres:PostgresFactory", "POSTGRES_DBNAME": s["dbname"],
            "POSTGRES_HOST": s["host"], "POSTGRES_PORT": s["port"], "POSTGRES_USER": s["user"],
            "POSTGRES_PASSWORD": s["password"], "POSTGRES_SCHEMA": self.schema, **TRACKER_MAPPING})
        TrackerMapping.setUp(self)

    def expected_factory_class(self) -> type:
        return PostgresFactory

    def expected_aggregate_recorder_class(self) -> type:
        return PostgresSnapshotRecorder

    def expected_application_recorder_class(self) -> type:
        return PostgresStoreRecorder

    def expected_tracking_recorder_class(self) -> type:
        return PostgresTrackingRecorder

    def tracking_recorder_subclass(self) -> type:
        return MyPostgresTrackingRecorder

    def expected_process_recorder_class(self) -> type:
        return PostgresProcessRecorder


# -- the transcoder ---------------------------------------------------------------


class TestOrjsonTranscoder(library.TranscoderTestCase):
    def construct_transcoder(self) -> OrjsonTranscoder:
        return OrjsonTranscoder()

    locals().update(skipped(
        NO_TRANSCODINGS, "test_tuple", "test_mixed", "test_dict_subclass", "test_list_subclass", "test_str_subclass",
        "test_int_subclass", "test_custom_type_in_dict", "test_nested_custom_type", "test_custom_type_error"))
