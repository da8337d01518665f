"""A separate process that records COUNT milestones on one commitment, one fact at a time.

python -m tests.workers.record_milestones STORE VIEWS WORKER COUNT
"""

import sys

from events import parse_line
from tracker.application import Tracker
from tracker.config import resolve_store

store, views, worker, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
app = Tracker(resolve_store(store, views))
for n in range(count):
    app.record(parse_line({
        "type": "MilestoneReached", "event_id": f"w{worker}-{n}", "commitment_id": "visa",
        "occurred_on": "2024-01-01", "milestone": f"worker {worker} step {n}",
        "source": {"title": "load test"},
    }))
app.close()
print(f"worker {worker} done")
