"""CPU burners for the deadline tests, in a module of their own: a spawned worker imports the module of
each job's function, and this one imports nothing heavy."""

from __future__ import annotations

import os
import time


def spin(seconds: float) -> int:
    """Python code that burns CPU (a pathological page in miniature); returns the worker's pid."""
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return os.getpid()


def spin_in_c() -> int:
    """CPU burnt inside one C call that never returns to the interpreter, so no signal handler runs."""
    return sum(range(10**13))
