"""The disk buffer on its own: durability bookkeeping, recovery of torn and corrupt records, the
size cap, segment deletion only once everything in it is settled, and the folder's lock."""

import json
import os
import subprocess
import sys
import unittest
from typing import List

from meterkit import DiskBuffer, MeterkitBufferError, MeterkitBufferLockedError
from meterkit.buffer_lock import LOCK_FILE
from meterkit.event import SerializedEvent

from .support import NODE, ROOT, temp_dir


def event(i: int, pad: int = 0) -> SerializedEvent:
    return SerializedEvent(f"e{i}", ('{"id":"e%d","event":"e","customerId":"c","timestamp":"2026-11-25T10:00:00.000Z","properties":{"p":"%s"}}' % (i, "x" * pad)).encode())


def segments(directory: str) -> List[str]:
    return sorted(n for n in os.listdir(directory) if n.startswith("segment-"))


class DiskBufferTests(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = temp_dir("mk-buf-")
        self.errors: List[MeterkitBufferError] = []

    def open(self, **options: int) -> DiskBuffer:
        b = DiskBuffer(self.dir, on_error=self.errors.append, **options)
        self.addCleanup(b.close)
        return b

    def test_appends_reads_in_order_and_deletes_a_segment_once_all_is_acknowledged(self) -> None:
        b = self.open()
        self.assertEqual(b.append([event(i) for i in range(5)]), [])
        self.assertEqual(b.size, 5)
        first = b.read(3, 1 << 20)
        self.assertEqual([e.id for e in first], ["e0", "e1", "e2"])
        rest = b.read(10, 1 << 20)
        self.assertEqual([e.id for e in rest], ["e3", "e4"])
        self.assertEqual(b.read(10, 1 << 20), [])
        b.ack(first)
        self.assertEqual(len(segments(self.dir)), 1)  # not everything in it is settled yet
        b.ack(rest)
        self.assertEqual(segments(self.dir), [])
        self.assertEqual(b.size, 0)

    def test_reads_within_byte_limits_but_always_at_least_one_event(self) -> None:
        b = self.open()
        b.append([event(0, 500), event(1, 500), event(2, 10)])
        self.assertEqual([e.id for e in b.read(10, 100)], ["e0"])
        self.assertEqual([e.id for e in b.read(10, 1200)], ["e1", "e2"])

    def test_a_new_process_replays_what_was_not_acknowledged(self) -> None:
        b = DiskBuffer(self.dir)
        b.append([event(i) for i in range(4)])
        b.ack(b.read(2, 1 << 20))  # acknowledgements live in memory: the segment is replayed whole
        b.close()
        again = self.open()
        self.assertEqual(again.size, 4)
        self.assertEqual([e.id for e in again.read(10, 1 << 20)], ["e0", "e1", "e2", "e3"])

    def test_a_torn_tail_and_a_corrupt_record_are_skipped_and_reported(self) -> None:
        b = DiskBuffer(self.dir)
        b.append([event(i) for i in range(3)])
        b.close()
        path = os.path.join(self.dir, segments(self.dir)[0])
        with open(path, "r+b") as f:
            data = bytearray(f.read())
            data[40] ^= 0x01  # flip a bit in the first record
            f.seek(0)
            f.write(data + b"0badc0de{\"id\":\"torn")  # a write cut short by a crash
        again = self.open()
        self.assertEqual([e.id for e in again.read(10, 1 << 20)], ["e1", "e2"])
        self.assertEqual(sorted(e.code for e in self.errors), ["buffer_corrupt_record", "buffer_torn_record"])
        st = again.stats()
        self.assertEqual((st.corrupt_records, st.torn_records), (1, 1))
        # New writes go to a new segment: nothing is ever appended after a torn tail.
        again.append([event(9)])
        self.assertEqual(len(segments(self.dir)), 2)

    def test_the_size_cap_refuses_the_newest_events(self) -> None:
        line = len(event(0).data) + 9
        b = self.open(max_bytes=line * 3)
        refused = b.append([event(i) for i in range(5)])
        self.assertEqual([e.id for e in refused], ["e3", "e4"])
        self.assertEqual(b.size, 3)
        self.assertEqual([e.id for e in b.append([event(7)])], ["e7"])

    def test_segments_rotate_and_each_goes_once_its_events_are_settled(self) -> None:
        size = len(event(0).data) + 9
        b = self.open(segment_bytes=size * 3)
        for i in range(6):
            b.append([event(i)])
        first, second = segments(self.dir)
        b.ack(b.read(3, 1 << 20))
        self.assertEqual(segments(self.dir), [second])
        b.ack(b.read(3, 1 << 20))
        self.assertEqual(segments(self.dir), [])

    def test_the_node_sdk_reads_a_python_buffer_and_the_other_way_round(self) -> None:
        node_dist = os.path.join(ROOT, "packages", "node", "dist", "index.js")
        if not os.path.exists(node_dist):
            self.skipTest("packages/node is not built: run `npx -y pnpm@12.4.2 install` (it builds) first")
        b = DiskBuffer(self.dir)
        b.append([event(1), event(2, 3)])
        b.close()
        script = """
          const { DiskBuffer } = await import(process.argv[1])
          const b = new DiskBuffer({ dir: process.argv[2] })
          await b.whenReady()
          const read = await b.read(100, 1 << 20)
          await b.ack(read)
          await b.append([{ id: 'from-node', json: '{"id":"from-node","event":"e","customerId":"c","timestamp":"2026-11-25T10:00:00.000Z"}', bytes: 86 }])
          await b.close()
          console.log(JSON.stringify(read.map((e) => [e.id, e.json])))
        """
        out = subprocess.run([NODE, "--input-type=module", "-e", script, node_dist, self.dir], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout), [["e1", event(1).data.decode()], ["e2", event(2, 3).data.decode()]])
        again = self.open()
        self.assertEqual([(e.id, e.bytes) for e in again.read(10, 1 << 20)], [("from-node", 86)])

    def test_one_process_per_folder(self) -> None:
        self.open()
        with self.assertRaises(MeterkitBufferLockedError) as caught:
            DiskBuffer(self.dir)
        self.assertEqual(caught.exception.pid, os.getpid())
        self.assertIn("this process", str(caught.exception))

    def test_the_lock_of_a_dead_process_is_taken_over(self) -> None:
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
        with open(os.path.join(self.dir, LOCK_FILE), "w") as f:
            f.write(dead.stdout)
        b = self.open()
        b.append([event(1)])
        b.close()
        self.assertFalse(os.path.exists(os.path.join(self.dir, LOCK_FILE)))
