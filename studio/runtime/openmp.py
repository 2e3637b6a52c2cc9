"""Which of the studio's threads hold OpenMP workers, and when they give them back.

torch runs a CPU op in parallel on an OpenMP team, and every thread that runs one keeps a team of
its own until that thread ends. GNU libgomp (torch's OpenMP on Linux) lets idle workers spin for the
next parallel region only while the process holds no more OpenMP threads than CPUs; past that, every
region wakes its workers through the kernel. On a 2-core machine one other team is enough, even an
idle one: a batch-1 64x64 generator forward takes 7 ms on a lone team and 10-18 ms next to a second.

So teams live only where work is going on:

- the UI thread computes serially (:func:`compute_serially_on_this_thread`): it never holds a team,
  and its small tensor work leaves the cores to training and inference;
- a background thread that goes idle hands its workers back (:func:`release_workers`): the training
  thread when a run pauses or ends, the job thread after each job, the inference thread after a
  moment without requests. A new team costs a thread start (~0.1 ms) the next time.

A plugin's own compute thread should do the same. Elsewhere than Linux (macOS's libomp sleeps its
workers by itself, Windows has other runtimes) :func:`release_workers` does nothing.

And a team's idle workers spin longer before they sleep (:func:`prepare_environment`, which the
``latent-studio`` command calls before torch is loaded; torch is imported lazily here for that):
libgomp's default, ~10 ms here, makes a click's forward after half a second of quiet take 18-20 ms
instead of 9 (the same 64x64 forward); ~80 ms of spinning after the last region brings it back.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from pathlib import Path

# 3M spins, ~80 ms on this 2-core VM (Intel's OpenMP spins 200 ms by default); a user's value wins
SPIN_ENVIRONMENT = {"GOMP_SPINCOUNT": "3000000"}
OMP_PAUSE_SOFT = 1  # omp_pause_resource_t's omp_pause_soft: libgomp frees the calling thread's pool


def prepare_environment() -> None:
    """Set the spin time of idle OpenMP workers, unless the user has: libgomp reads it once, when
    torch loads it, so call this first thing in a program that will import torch."""
    for name, value in SPIN_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


@functools.cache
def background_threads() -> int:
    """The intra-op threads a background compute thread gets: torch's default (or the user's
    ``OMP_NUM_THREADS``), read before the UI thread is made serial."""
    import torch

    return torch.get_num_threads()


def compute_serially_on_this_thread() -> None:
    """Give the calling thread (the UI thread) one intra-op thread, and every later thread the usual
    count: ``torch.set_num_threads`` sets both this thread's own setting and the default of threads
    that have yet to run torch, so the default is set back from a thread that ends at once."""
    import torch

    usual = background_threads()
    torch.set_num_threads(1)
    restore = threading.Thread(target=torch.set_num_threads, args=(usual,), name="restore torch threads")
    restore.start()
    restore.join()


def release_workers() -> bool:
    """Free the calling thread's OpenMP workers (it starts new ones when it next computes).

    Call it from a compute thread that is going idle, never from inside a parallel region. True when
    the OpenMP runtime freed them; False where it cannot (not libgomp, or not found).
    """
    pause = _libgomp_pause()
    return pause is not None and pause(OMP_PAUSE_SOFT) == 0


@functools.cache
def _libgomp_pause():
    """``omp_pause_resource_all`` of the libgomp torch uses. Other packages bring copies of their own
    (scikit-learn's wheel does), whose pools are not torch's: the copy in torch's folders (a wheel's
    torch/lib) wins, else the only one loaded (a distribution's torch on the system libgomp)."""
    import torch

    try:
        with open("/proc/self/maps") as maps:
            loaded = {line.split()[-1] for line in maps if "/libgomp" in line}
    except OSError:
        return None
    torch_dir = str(Path(torch.__file__).parent)  # .../torch; a repaired wheel's torch.libs shares the prefix
    ours = [path for path in loaded if path.startswith(torch_dir)] or (list(loaded) if len(loaded) == 1 else [])
    for path in ours:
        try:
            pause = ctypes.CDLL(path).omp_pause_resource_all
        except (OSError, AttributeError):  # a libgomp older than OpenMP 5.0 (GCC 9)
            continue
        pause.argtypes, pause.restype = [ctypes.c_int], ctypes.c_int
        return pause
    return None
