"""Keep the head and the tail of what a sandboxed process prints, and count the rest.

Printing never costs points: the pipe is drained as fast as the student writes (a thread
blocked in `os.read`), the first and last `limit / 2` bytes are kept, and the bytes in
between are only counted, so the grader's memory stays bounded whatever is printed.
"""

from __future__ import annotations

import os
import threading

from autograder import sanitize

CHUNK = 1 << 20


class OutputCapture:
    """Drains `read_fd` (closed when done) in a background thread."""

    def __init__(self, read_fd: int, limit_bytes: int):
        self.limit = max(limit_bytes, 2)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self._fd = read_fd
        self._thread = threading.Thread(target=self._drain, name="sandbox-output", daemon=True)
        self._thread.start()

    def _drain(self):
        keep_head = self.limit // 2
        keep_tail = self.limit - keep_head
        try:
            while True:
                try:
                    chunk = os.read(self._fd, CHUNK)
                except InterruptedError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                self.total += len(chunk)
                room = keep_head - len(self.head)
                if room > 0:
                    self.head += chunk[:room]
                    chunk = chunk[room:]
                if chunk:
                    self.tail += chunk
                    if len(self.tail) > 2 * keep_tail:  # trim now and then, not on every chunk
                        del self.tail[:-keep_tail]
        finally:
            os.close(self._fd)

    def finish(self, timeout_s: float = 5.0) -> None:
        """Wait until every writer has closed the pipe (they are all dead by now)."""
        self._thread.join(timeout_s)

    @property
    def dropped(self) -> int:
        keep_tail = self.limit - self.limit // 2
        return max(0, self.total - len(self.head) - min(len(self.tail), keep_tail))

    def text(self) -> str:
        """What was printed, the middle replaced by a note of how much was dropped; sanitised."""
        keep_tail = self.limit - self.limit // 2
        head = bytes(self.head).decode("utf-8", "replace")
        tail = bytes(self.tail[-keep_tail:] if self.dropped or len(self.tail) > keep_tail else self.tail)
        if not self.dropped:
            return sanitize.text(head + tail.decode("utf-8", "replace"), limit=self.limit + 100)
        note = f"\n[... {self.dropped:,} bytes of output dropped: the limit is {self.limit:,} bytes ...]\n"
        return sanitize.text(head + note + tail.decode("utf-8", "replace"), limit=self.limit + len(note) + 100)
