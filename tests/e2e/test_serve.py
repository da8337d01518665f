"""tracker serve: the read models in Datasette, with descriptions and facets."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import needs

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_serve_opens_the_board_in_datasette_with_facets_and_descriptions(store_url, tmp_path):
    needs("datasette", "serve")
    where = ["--db", store_url, "--views", str(tmp_path / "views.db")]
    subprocess.run([sys.executable, "-m", "tracker", *where, "demo"], cwd=ROOT, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "tracker", *where, "serve", "--port", str(port)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}/tracker"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = get(f"{base}/commitments.json?_shape=objects&legal_status=signed")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        ids = [row["commitment_id"] for row in page["rows"]]
        assert "xian-2023-visa-exemption" in ids and len(ids) == 10
        assert {f for f in page["facet_results"]} >= {"legal_status", "implementation_status", "sector"}
        metadata = get(f"http://127.0.0.1:{port}/-/metadata.json")
        tables = metadata["databases"]["tracker"]["tables"]
        assert tables["meeting_reports"]["description"].startswith("Each source's count")
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/no_such_table", timeout=5)
        assert missing.value.code == 404
        board = get(f"{base}/status_board.json?_shape=array")
        assert {row["commitment_id"] for row in board} == set(ids)
    finally:
        server.terminate()
        server.wait(timeout=30)
    with pytest.raises(OSError):  # Datasette stopped with it
        urllib.request.urlopen(f"{base}.json", timeout=2)


def test_serve_on_a_port_already_in_use_says_so_and_which_option_to_change(tmp_path):
    needs("datasette", "serve")
    where = ["--db", str(tmp_path / "tracker.db"), "--views", str(tmp_path / "views.db")]
    subprocess.run([sys.executable, "-m", "tracker", *where, "demo"], cwd=ROOT, check=True, capture_output=True)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "tracker", *where, "serve", "--port", str(port)],
                                cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", f"tracker: error: cannot serve on 127.0.0.1:{port} (Address already in use): choose another port"
               " with --port\n")
