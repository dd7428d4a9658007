"""Run a producer (e.g. decoding) in a thread feeding a bounded queue.

Decoding, VP9 encoding and torch all release the GIL, so a decode thread overlaps with the
consumer's work on another core. The queue bounds memory whatever the video's length; the
consumer re-raises the producer's error and the thread is always joined.
"""

from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")
_DONE = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def threaded(source: Iterable[T], maxsize: int = 16, name: str = "producer") -> Iterator[T]:
    """Iterate ``source`` in a background thread; yield its items here, in order."""
    q: queue.Queue = queue.Queue(maxsize=maxsize)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in source:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            put(_Failure(e))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()  # the consumer stopped early or failed: unblock and end the producer
        thread.join()


class Sink:
    """A consumer thread: ``put(item)`` hands work to ``fn`` on another core, in order.

    ``close()`` waits for the queue to drain and re-raises the first error ``fn`` raised; after
    an error, ``put`` raises it at once so the producer stops early.
    """

    def __init__(self, fn, maxsize: int = 16, name: str = "sink") -> None:
        self._fn = fn
        self._q: queue.Queue = queue.Queue(maxsize=maxsize)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is _DONE:
                return
            if self._error is None:
                try:
                    self._fn(item)
                except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
                    self._error = e

    def put(self, item) -> None:
        if self._error is not None:
            raise self._error
        self._q.put(item)

    def close(self) -> None:
        if self._thread.is_alive():
            self._q.put(_DONE)
            self._thread.join()
        if self._error is not None:
            raise self._error

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.close()
        else:  # already failing: drain and stop, but keep the original error
            try:
                self.close()
            except BaseException:  # noqa: BLE001
                pass
