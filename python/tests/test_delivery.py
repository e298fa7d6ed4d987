"""Per-event answers and what they count as: ``queued`` (a collector in queue mode) is delivered,
as ``accepted`` and ``duplicate`` are (as packages/core/src/delivery.ts counts them)."""

import json
import threading
import unittest

from meterkit.delivery import Delivery
from meterkit.event import SerializedEvent
from meterkit.retry import classify
from meterkit.stats import Counters


def events(n: int):
    return [SerializedEvent(f"e{i}", json.dumps({"id": f"e{i}", "event": "e", "customerId": "c"}).encode()) for i in range(n)]


class QueuedAnswerTest(unittest.TestCase):
    def test_a_queued_answer_is_read_as_results_and_counted_as_delivered(self) -> None:
        batch = events(3)
        body = json.dumps({"accepted": 0, "duplicates": 0, "conflicts": 0, "rejected": 1, "queued": 2, "results": [
            {"id": "e0", "status": "queued"},
            {"id": "e1", "status": "queued"},
            {"id": "e2", "status": "rejected", "code": "invalid_event", "message": "event: bad"},
        ]})
        outcome = classify(200, body, None, len(batch), 0)
        self.assertEqual(outcome.kind, "results")
        counters = Counters()
        errors = []
        Delivery(None, lambda: 0, counters, threading.RLock(), errors.append, None).apply_results(batch, outcome.results)  # type: ignore[arg-type]
        self.assertEqual((counters.acknowledged, counters.duplicates, counters.rejected), (2, 0, 1))
        self.assertEqual([e.event_id for e in errors], ["e2"])


if __name__ == "__main__":
    unittest.main()
