"""Independent trainers two at a time, one per core of the book's 2-core budget (README).

A compiled JAX trainer releases the interpreter while XLA compiles or runs it, so two
threads overlap one trainer's compilation with another's training. Every call runs the same
program on the same inputs as it would alone: the results are those of the calls made one
after another.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

THREADS = 2


def concurrently(calls: dict) -> dict:
    """``{name: f()}`` of the zero-argument callables ``calls``, :data:`THREADS` at a time,
    started in the dict's order."""
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        jobs = {name: pool.submit(f) for name, f in calls.items()}
        return {name: job.result() for name, job in jobs.items()}
