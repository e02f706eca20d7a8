"""The thread helpers: kernel.in_threads (numba kernels' shares of runs) and
model.deep.pool.concurrently (JAX trainers two at a time)."""
import threading

import numba
import numpy as np

from rayint_lib.model.deep.pool import concurrently
from rayint_lib.model.kernel import in_threads


def test_in_threads_covers_every_item_once_in_contiguous_shares():
    before = numba.get_num_threads()
    try:
        for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(threads)
            for n_items in (1, 2, 7, 100):
                hits, shares = np.zeros(n_items, int), []

                def f(out, first, stop):
                    out[first:stop] += 1
                    shares.append((int(first), int(stop)))

                in_threads(f, n_items, hits)
                np.testing.assert_array_equal(hits, 1)
                assert len(shares) == min(threads, n_items)
                assert sorted(shares)[0][0] == 0 and sorted(shares)[-1][1] == n_items
    finally:
        numba.set_num_threads(before)


def test_concurrently_returns_each_result_under_its_name_in_order():
    names = []
    calls = {k: (lambda k=k: names.append(threading.current_thread().name) or k * k)
             for k in (3, 1, 2)}
    out = concurrently(calls)
    assert list(out) == [3, 1, 2] and out == {3: 9, 1: 1, 2: 4}
    assert all(n != threading.main_thread().name for n in names)
