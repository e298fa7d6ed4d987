"""Limits of the wire protocol (CONTRACT §3, §4) and the client's defaults (CONTRACT §2).

The same numbers as packages/protocol/src/limits.ts and packages/core/src/options.ts; the shared
test vectors (test/vectors/) hold the two SDKs to them.
"""

import re

MAX_ID_LENGTH = 128
MAX_EVENT_NAME_LENGTH = 128
MAX_CUSTOMER_ID_LENGTH = 256
#: Serialized size of one event, in bytes of UTF-8 JSON.
MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_EVENTS = 1000
#: Size of a ``POST /v1/events`` body after decoding (gzip), in bytes.
MAX_BATCH_BYTES = 1024 * 1024

#: Characters allowed in event ids and event names.
ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]+", re.ASCII)
CONTROL_CHARACTERS = re.compile("[\u0000-\u001f\u007f-\u009f]")

# Client defaults, as in the TypeScript core (times in seconds here, in ms there).
DEFAULT_FLUSH_AT = 100
DEFAULT_FLUSH_INTERVAL = 5.0
DEFAULT_MAX_BATCH_BYTES = 512 * 1024
DEFAULT_MAX_QUEUE_EVENTS = 10_000
DEFAULT_MAX_RETRIES = 10
DEFAULT_MAX_CONCURRENT_REQUESTS = 2
DEFAULT_TIMEOUT = 10.0
DEFAULT_SHUTDOWN_TIMEOUT = 30.0
DEFAULT_MAX_BUFFER_BYTES = 256 * 1024 * 1024
DEFAULT_GZIP_MIN_BYTES = 64 * 1024
