"""The Ray actor that runs sweep batches: it builds its executor once (engines and verifiers load on first use and
stay loaded across jobs) and returns JobOutputs (scores, ledger, audio arrays) to the driver; it writes no files."""
from __future__ import annotations

import os
import socket
import sys
import time


class SweepWorker:
    def __init__(self, factory, index: int, threads: int):
        self.index = index
        # one torch/BLAS thread per CPU the worker was given, so workers on one node do not oversubscribe it; torch
        # reads the variables when first imported (not imported here: the espeak executor never needs it)
        n = str(max(1, int(threads)))
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(int(n))
        os.environ.update(OMP_NUM_THREADS=n, MKL_NUM_THREADS=n, OPENBLAS_NUM_THREADS=n)
        self.executor = factory()
        import ray

        self.info = {"worker": index, "node": ray.get_runtime_context().get_node_id(), "host": socket.gethostname(),
                     "pid": os.getpid()}

    def ready(self) -> dict:
        return self.info

    def run(self, batch_id: int, jobs: list) -> tuple[int, list, float]:
        t0 = time.perf_counter()
        outputs = list(self.executor(jobs))
        return batch_id, outputs, (time.perf_counter() - t0) / max(1, len(jobs))
