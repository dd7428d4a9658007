import threading

import pytest

from gpu_kernels.stream import Sink, threaded


def test_threaded_yields_in_order_and_reraises_producer_errors():
    assert list(threaded(iter(range(1000)), maxsize=4)) == list(range(1000))

    def boom():
        yield 1
        raise ValueError("decode failed")

    it = threaded(boom())
    assert next(it) == 1
    with pytest.raises(ValueError, match="decode failed"):
        next(it)


def test_threaded_stops_producer_when_consumer_stops_early():
    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    before = threading.active_count()
    for i in threaded(endless(), maxsize=2):
        if i == 10:
            break
    assert threading.active_count() == before  # joined
    assert len(produced) < 20  # bounded queue: the producer never ran far ahead


def test_sink_processes_in_order_and_surfaces_errors():
    seen = []
    with Sink(seen.append, maxsize=2) as s:
        for i in range(100):
            s.put(i)
    assert seen == list(range(100))

    def fail(x):
        if x == 3:
            raise RuntimeError("encoder broke")

    s = Sink(fail, maxsize=1)
    with pytest.raises(RuntimeError, match="encoder broke"):
        for i in range(1000):
            s.put(i)
        s.close()
