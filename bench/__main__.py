"""Side-by-side benchmark: each tracker workload and its baseline, in the same run.

    python -m bench                       # the full run (200,000 events; 1,000,000 for the scale rows)
    python -m bench --smoke               # a few thousand events, as in CI

Prints one table (workload, size, median of the runs, baseline, ratio, target, the further
figures and conditions a row is judged on) and writes the same rows as JSON
(bench/results/latest.json unless --json says otherwise). A row is met when its ratio is
within its target and every condition in its ``also_required`` holds.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.history import generate, long_commitment, write

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

BASELINE_IMPORT = """
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[2])
db.execute("CREATE TABLE events (event_id TEXT PRIMARY KEY, type TEXT, body TEXT)")
with db, open(sys.argv[1], encoding="utf-8") as lines:
    rows = []
    for line in lines:
        data = json.loads(line)
        rows.append((data["event_id"], data["type"], line))
    db.executemany("INSERT INTO events VALUES (?, ?, ?)", rows)
"""

UPSERT_STATUS = (
    "INSERT INTO status VALUES (?, ?, ?, 1) ON CONFLICT(stream) DO UPDATE SET"
    " type = excluded.type, occurred_on = excluded.occurred_on, events = events + 1"
)

BASELINE_REBUILD = """
import json, sqlite3, sys
UPSERT = sys.argv[3]
store = sqlite3.connect(sys.argv[1])
out = sqlite3.connect(sys.argv[2])
out.execute("CREATE TABLE IF NOT EXISTS status (stream TEXT PRIMARY KEY, type TEXT, occurred_on TEXT, events INT)")
with out:
    out.execute("DELETE FROM status")
    for stream, topic, state in store.execute("SELECT originator_id, topic, state FROM stored_events ORDER BY rowid"):
        if not topic.startswith(("events.commitments:", "events.meetings:", "events.indicators:")):
            continue
        data = json.loads(state)
        out.execute(UPSERT, (stream, topic, data["occurred_on"]))
"""

BASELINE_HISTORY = """
import typer, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT * FROM timeline WHERE stream = ? ORDER BY starts_on, rank, position", [sys.argv[2]]).fetchall()
print(len(rows))
"""


LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


class StepFailed(SystemExit):
    """A step of the benchmark exited non-zero: ends the run, unless a row records it."""

    def __init__(self, args: list[str], code: int, error: str, peak_kib: int = 0):
        self.reason = (f"killed by signal {-code}" if code < 0 else f"exit code {code}") + (
            f": {error.strip().splitlines()[-1]}" if error.strip() else "")
        self.peak_kib = peak_kib
        super().__init__(f"benchmark step failed: {' '.join(args[:6])}...\n{error}")


def peak_memory(args: list[str]) -> int:
    """Peak resident memory (KiB) of one whole process.

    Started from a small launcher: a child forked from this (large) process would count
    this process's pages in its own peak before it execs.
    """
    done = subprocess.run([PY, "-c", LAUNCHER, *args], cwd=ROOT, capture_output=True, text=True)
    figures = done.stdout.split()
    if done.returncode != 0 or len(figures) != 2:
        raise StepFailed(args, done.returncode or 1, done.stderr)
    peak, code = int(figures[0]), int(figures[1])
    if code != 0:
        raise StepFailed(args, code, done.stderr, peak)
    return peak


def run(args: list[str], env: dict | None = None) -> tuple[float, int]:
    """Wall time and peak memory (KiB) of one whole process."""
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    error = process.stderr.read().decode() if process.stderr else ""
    process.stderr.close()
    if (code := os.waitstatus_to_exitcode(status)) != 0:
        raise StepFailed(args, code, error)
    return elapsed, usage.ru_maxrss


def tracker(store: Path, *args: str) -> list[str]:
    return [PY, "-m", "tracker", "--db", str(store), *args]


def paired(runs: int, ours, theirs) -> tuple[list[float], list[float]]:  # noqa: ANN001
    """Each run beside its baseline run, in turns: the machine's slow moments fall on both sides."""
    mine, baseline = [], []
    for _ in range(runs):
        mine.append(ours())
        baseline.append(theirs())
    return mine, baseline


def medians(runs: int, ours, theirs) -> tuple[float, float]:  # noqa: ANN001
    mine, baseline = paired(runs, ours, theirs)
    return statistics.median(mine), statistics.median(baseline)


def page_digests(path: Path, page_size: int) -> list[bytes]:
    with path.open("rb") as pages:
        return [hashlib.blake2b(page, digest_size=16).digest() for page in iter(lambda: pages.read(page_size), b"")]


def pages_written(before: list[bytes], after: list[bytes]) -> int:
    """Pages of the file new or changed between the two readings."""
    return sum(1 for old, new in zip(before, after) if old != new) + max(0, len(after) - len(before))


def checkpoint(views) -> None:  # noqa: ANN001
    """Move the read models' write-ahead log into their file, so the file holds every page written."""
    busy, _, _ = views.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        raise SystemExit("benchmark step failed: the read models' log could not be checkpointed")


class Bench:
    def __init__(self, options: argparse.Namespace):
        self.o = options
        self.dir = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
        self.rows: list[dict] = []

    def row(self, workload: str, size: str, tracker_s: float, baseline_s: float, baseline: str,
            target: float, unit: str = "s", *, runs: int | None = None, moonshot: float | None = None,
            also: dict[str, bool] | None = None, figures: dict | None = None, note: str = "",
            failed: str | None = None) -> None:
        """One row: ``met`` when the ratio is within ``target``, every condition in ``also``
        holds and no step ``failed``. ``figures`` go into the JSON as they are; ``note`` is
        what the table shows of them."""
        ratio = tracker_s / baseline_s if baseline_s else float("inf")
        also = also or {}
        met = ratio <= target and all(also.values()) and not failed
        runs = runs or self.o.runs
        notes = [part for part in (f"median of {runs} runs" if runs != self.o.runs else "", note,
                                   f"moonshot {moonshot}" if moonshot else "",
                                   *(f"{name}: {'yes' if ok else 'NO'}" for name, ok in also.items()),
                                   f"FAILED: {failed}" if failed else "") if part]
        self.rows.append({"workload": workload, "size": size, "tracker": round(tracker_s, 4),
                          "baseline": round(baseline_s, 4), "baseline_is": baseline, "unit": unit,
                          "ratio": round(ratio, 2), "target": target,
                          **({"moonshot": moonshot} if moonshot else {}), "runs": runs,
                          **(figures or {}), **({"also_required": also} if also else {}),
                          **({"failed": failed} if failed else {}), "met": met, "notes": "; ".join(notes)})
        print(f"  {workload}: {tracker_s:.3f} vs {baseline_s:.3f} {unit} -> ratio {ratio:.2f} (target {target})"
              + "".join(f"; {part}" for part in notes), file=sys.stderr, flush=True)

    def history(self, events: int, commitments: int | None = None, clean: bool = False) -> Path:
        path = self.dir / f"history-{events}-{commitments}-{clean}.jsonl"
        if not path.exists():
            write(path, generate(events, commitments=commitments, clean=clean))
        return path

    def loaded_store(self, events: int, commitments: int | None = None, clean: bool = False) -> Path:
        """A store with ``events`` imported and its read models caught up.

        Imported in one go (an import holds one commitment at a time in memory), or as news
        arrives, in files of at most ``--chunk`` events."""
        store = self.dir / f"store-{events}-{commitments}-{clean}.db"
        if not store.exists():
            history = self.history(events, commitments, clean)
            if not self.o.chunk:
                run(tracker(store, "import", str(history)))
            else:
                self.import_in_chunks(store, history)
            print(f"  (made a store of {events:,} events)", file=sys.stderr, flush=True)
        return store

    def import_in_chunks(self, store: Path, history: Path) -> None:
        with history.open(encoding="utf-8") as lines:
            while chunk := list(itertools.islice(lines, self.o.chunk)):
                part = self.dir / "chunk.jsonl"
                part.write_text("".join(chunk), encoding="utf-8")
                run(tracker(store, "import", str(part)))

    def copy_store(self, store: Path, name: str) -> Path:
        target = self.dir / f"{name}.db"
        for leftover in self.dir.glob(f"{name}.*"):  # a log left beside a copied file would be replayed into it
            leftover.unlink()
        for suffix in ("", ".views"):
            source = store.with_name(store.stem + suffix + ".db")
            shutil.copy(source, target.with_name(target.stem + suffix + ".db"))
        return target

    # -- workloads -------------------------------------------------------------------------

    def import_(self) -> None:
        n, history = self.o.events, self.history(self.o.events)

        def ours() -> float:
            store = self.dir / "import.db"
            for leftover in self.dir.glob("import*"):
                leftover.unlink()
            return run(tracker(store, "import", str(history)))[0]

        def theirs() -> float:
            target = self.dir / "baseline-import.db"
            target.unlink(missing_ok=True)
            return run([PY, "-c", BASELINE_IMPORT, str(history), str(target)])[0]

        self.row("tracker import (JSON Lines)", f"{n:,} events", *medians(self.o.runs, ours, theirs),
                 "json + one INSERT transaction", 5, moonshot=3)

    def rebuild(self) -> None:
        n, store = self.o.events, self.loaded_store(self.o.events)
        out = self.dir / "baseline-rebuild.db"
        runs, target = max(5, self.o.runs), 2
        ours, theirs = paired(runs, lambda: run(tracker(store, "rebuild"))[0],
                              lambda: run([PY, "-c", BASELINE_REBUILD, str(store), str(out), UPSERT_STATUS])[0])
        ratios = [round(mine / baseline, 2) for mine, baseline in zip(ours, theirs)]
        self.row("tracker rebuild (every read model)", f"{n:,} events", statistics.median(ours),
                 statistics.median(theirs), "decode + one upsert each, one transaction", target, runs=runs,
                 moonshot=1.5, figures={"runs_ratios": ratios}, note=f"worst run {max(ratios):.2f}",
                 also={f"every one of {runs} consecutive runs <= {target}": max(ratios) <= target})

    def catch_up(self) -> None:
        import orjson

        sys.path.insert(0, str(ROOT))
        from events import parse_line
        from projections.runner import catch_up, open_views
        from tracker.application import Tracker
        from tracker.config import resolve_store

        n, new = self.o.events, self.o.new_events
        base = self.loaded_store(n)
        ours_times, theirs_times, pages = [], [], []
        for attempt in range(self.o.runs):
            store = self.copy_store(base, f"catchup-{attempt}")
            app = Tracker(resolve_store(str(store)))
            views = open_views(store.with_name(store.stem + ".views.db"))
            catch_up(app, views)
            start = app.recorder.max_notification_id()
            facts = [parse_line({"type": "MilestoneReached", "event_id": f"late-{attempt}-{k}",
                                 "commitment_id": f"c{k % max(1, n // 50)}", "occurred_on": "2026-01-01",
                                 "milestone": f"late news {k}", "source": {"title": "bench"}}) for k in range(new)]
            app.record_many(facts)
            views_file = store.with_name(store.stem + ".views.db")
            page_size = views.execute("PRAGMA page_size").fetchone()[0]
            checkpoint(views)
            before = page_digests(views_file, page_size)
            began = time.perf_counter()
            catch_up(app, views)
            ours_times.append(time.perf_counter() - began)
            checkpoint(views)
            pages.append(pages_written(before, page_digests(views_file, page_size)) / new)
            views.close()
            import sqlite3

            raw = sqlite3.connect(store)
            baseline = sqlite3.connect(self.dir / f"baseline-catchup-{attempt}.db")
            baseline.execute("CREATE TABLE IF NOT EXISTS status (stream TEXT PRIMARY KEY, type TEXT,"
                             " occurred_on TEXT, events INT)")
            began = time.perf_counter()
            with baseline:
                for stream, topic, state in raw.execute(
                        "SELECT originator_id, topic, state FROM stored_events WHERE rowid > ? ORDER BY rowid", [start]):
                    if not topic.startswith(("events.commitments:", "events.meetings:", "events.indicators:")):
                        continue
                    data = orjson.loads(state)
                    baseline.execute(UPSERT_STATUS, (stream, topic, data["occurred_on"]))
            theirs_times.append(time.perf_counter() - began)
            app.close()
        pages_per_fact = round(statistics.median(pages), 2)
        self.row(f"catch up after {new:,} new events", f"{n:,} events", statistics.median(ours_times),
                 statistics.median(theirs_times), "the same upserts by hand", 6, moonshot=2,
                 figures={"pages_per_fact": pages_per_fact, "page_size": page_size},
                 note=f"{pages_per_fact} pages ({page_size // 1024} KiB) written a fact")

    def status(self) -> None:
        n, store = self.o.events, self.loaded_store(self.o.events)
        run(tracker(store, "status", "--json"))
        ours, theirs = medians(self.o.runs, lambda: run(tracker(store, "status", "--json"))[0],
                               lambda: run([PY, "-c", "import typer, sqlite3"])[0])
        self.row("tracker status --json, whole process", f"{n:,} events", ours, theirs,
                 'python -c "import typer, sqlite3"', 1.6)

    def status_scale(self) -> None:
        # Same commitments in both stores, so the board printed is the same size and the
        # row shows only what the number of events costs a read (no replay on read). The
        # histories arrive in order: importing 50,000 facts a commitment with corrections and
        # late news refolds those commitments batch after batch (see the README).
        n = self.o.scale_commitments
        large = self.loaded_store(self.o.large, n, clean=True)
        small = self.loaded_store(self.o.small, n, clean=True)
        for store in (large, small):
            run(tracker(store, "status", "--json"))
        ours, theirs = medians(self.o.runs, lambda: run(tracker(large, "status", "--json"))[0],
                               lambda: run(tracker(small, "status", "--json"))[0])
        self.row("tracker status --json, large vs small store",
                 f"{self.o.large:,} vs {self.o.small:,} events, {n} commitments each",
                 ours, theirs, f"itself at {self.o.small:,} events", 1.2)

    def rebuild_memory(self) -> None:
        large, medium = self.loaded_store(self.o.large), self.loaded_store(self.o.medium)
        ours = statistics.median(peak_memory(tracker(large, "rebuild")) for _ in range(max(1, self.o.runs // 2)))
        theirs = statistics.median(peak_memory(tracker(medium, "rebuild")) for _ in range(max(1, self.o.runs // 2)))
        self.row("peak memory of tracker rebuild", f"{self.o.large:,} vs {self.o.medium:,} events",
                 ours / 1024, theirs / 1024, f"itself at {self.o.medium:,} events", 1.3, unit="MiB")

    def import_memory(self) -> None:
        """Peak memory of importing a whole file into a fresh store, large file vs medium file.

        A failed import (it may run out of memory) is recorded in the row, not the end of the run."""
        large, medium, ceiling_mib = self.o.large, self.o.medium, 500
        runs = 1 if large >= 1_000_000 else max(1, self.o.runs // 2)
        failures: list[str] = []

        def peak(events: int) -> float:
            history, store = self.history(events), self.dir / f"import-memory-{events}.db"
            peaks = []
            for _ in range(runs):
                for leftover in self.dir.glob(f"{store.stem}.*"):
                    leftover.unlink()
                try:
                    peaks.append(peak_memory(tracker(store, "import", str(history))))
                except StepFailed as failure:
                    failures.append(f"import of {events:,} events: {failure.reason}")
                    peaks.append(failure.peak_kib)
            for leftover in self.dir.glob(f"{store.stem}.*"):
                leftover.unlink()
            return statistics.median(peaks) / 1024

        ours, theirs = peak(large), peak(medium)
        self.row("peak memory of tracker import (whole file, fresh store)", f"{large:,} vs {medium:,} events",
                 ours, theirs, f"itself at {medium:,} events", 1.3, unit="MiB", runs=runs,
                 figures={"peak_mib": round(ours, 1), "ceiling_mib": ceiling_mib},
                 also={f"under {ceiling_mib} MiB at {large:,} events": ours < ceiling_mib},
                 failed="; ".join(failures) or None)

    def long_stream(self) -> tuple[Path, Path]:
        long_store, short_store = self.dir / "long.db", self.dir / "short.db"
        if not long_store.exists():
            write(self.dir / "long.jsonl", long_commitment("long", self.o.long))
            write(self.dir / "short.jsonl", long_commitment("short", 1))
            run(tracker(long_store, "import", str(self.dir / "long.jsonl")))
            run(tracker(short_store, "import", str(self.dir / "short.jsonl")))
            self.copy_store(long_store, "long-as-imported")  # the record row adds to long.db
        return long_store, short_store

    def record(self) -> None:
        long_store, short_store = self.long_stream()
        counter = iter(range(10**6))

        def record(store: Path, cid: str) -> float:
            return run(tracker(store, "record", "milestone-reached", "--event-id", f"bench-{next(counter)}",
                               "--commitment-id", cid, "--occurred-on", "2026-01-01", "--milestone", "bench",
                               "--source-title", "bench"))[0]

        ours, theirs = medians(self.o.runs, lambda: record(long_store, "long"), lambda: record(short_store, "short"))
        self.row("tracker record, whole process", f"commitment of {self.o.long:,} events", ours, theirs,
                 "the same on a commitment with one event", 1.5)

    def late_fact(self) -> None:
        """A fact dated before all of a long commitment's facts vs the same dated after them all.

        Each run records on its own copy of the store as imported, so both see the same facts."""
        self.long_stream()
        counter = iter(range(10**6))

        def record(occurred_on: str) -> float:
            store = self.copy_store(self.dir / "long-as-imported.db", "late-fact")
            return run(tracker(store, "record", "milestone-reached", "--event-id", f"late-{next(counter)}",
                               "--commitment-id", "long", "--occurred-on", occurred_on, "--milestone", "late news",
                               "--source-title", "bench"))[0]

        # The commitment is registered on 2023-05-17, its other facts dated from 2023-06-01 to
        # 2025-12-31 at the latest (bench.history.long_commitment).
        ours, theirs = medians(self.o.runs, lambda: record("2023-05-18"), lambda: record("2026-01-01"))
        self.row("late fact on a long commitment, whole process", f"commitment of {self.o.long:,} events",
                 ours, theirs, "the same fact dated after all others", 2)

    def history_command(self) -> None:
        long_store, _ = self.long_stream()
        views = long_store.with_name("long.views.db")
        run(tracker(long_store, "history", "long", "--json"))
        ours, theirs = medians(self.o.runs, lambda: run(tracker(long_store, "history", "long", "--json"))[0],
                               lambda: run([PY, "-c", BASELINE_HISTORY, str(views), "commitment:long"])[0])
        self.row("tracker history --json, whole process", f"commitment of {self.o.long:,} events", ours, theirs,
                 'python -c "import typer, sqlite3" + one SELECT', 2)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000, help="main history size")
    parser.add_argument("--large", type=int, default=1_000_000, help="large store for the scale and memory rows")
    parser.add_argument("--medium", type=int, default=100_000, help="medium store for the memory rows")
    parser.add_argument("--small", type=int, default=1_000, help="small store for the status scale row")
    parser.add_argument("--scale-commitments", type=int, default=20,
                        help="commitments in both stores of the status scale row")
    parser.add_argument("--long", type=int, default=10_000, help="events on the long commitment")
    parser.add_argument("--new-events", type=int, default=1_000, help="events to catch up on")
    parser.add_argument("--runs", type=int, default=5, help="runs per workload (the median is kept)")
    parser.add_argument("--chunk", type=int, default=0,
                        help="largest import when making the stores the other workloads read (0: whole file)")
    parser.add_argument("--smoke", action="store_true", help="a small, quick run (CI)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    parser.add_argument("--only", nargs="*", help="run only these workloads")
    options = parser.parse_args()
    if options.smoke:
        options.events, options.large, options.medium, options.small = 3_000, 6_000, 2_000, 500
        options.scale_commitments = 5
        options.long, options.new_events, options.runs = 500, 200, 1
    # As an installed package would be: PYTHONDONTWRITEBYTECODE in the environment would
    # otherwise recompile the project's modules in every process timed.
    subprocess.run([PY, "-m", "compileall", "-q", "tracker", "events", "projections"], cwd=ROOT, check=True)
    bench = Bench(options)
    workloads = {"import": bench.import_, "rebuild": bench.rebuild, "catch-up": bench.catch_up,
                 "status": bench.status, "status-scale": bench.status_scale, "memory": bench.rebuild_memory,
                 "import-memory": bench.import_memory, "record": bench.record, "late-fact": bench.late_fact,
                 "history": bench.history_command}
    try:
        for name, workload in workloads.items():
            if not options.only or name in options.only:
                print(f"{name}...", file=sys.stderr, flush=True)
                workload()
    finally:
        shutil.rmtree(bench.dir, ignore_errors=True)
    report = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "runs": options.runs,
        "rows": bench.rows,
    }
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(report, indent=2) + "\n")
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"tracker benchmark, {report['date']}, {report['machine']}, median of {options.runs} runs"
                  " unless a row says otherwise")
    for column in ("workload", "size", "tracker", "baseline", "ratio", "target", "met", "also"):
        table.add_column(column)
    for r in bench.rows:
        table.add_row(r["workload"], r["size"], f"{r['tracker']:.3f} {r['unit']}",
                      f"{r['baseline']:.3f} {r['unit']} ({r['baseline_is']})", f"{r['ratio']:.2f}",
                      f"≤ {r['target']}", "yes" if r["met"] else "NO", r["notes"])
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
