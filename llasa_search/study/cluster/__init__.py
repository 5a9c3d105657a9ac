"""Sweeps on a Ray cluster: `llasa-search sweep CONFIG --out DIR --ray ADDRESS [--workers N]`.

- connect.py  import Ray (optional extra), connect or start it (fail fast, loopback for `local`), size the worker pool
- worker.py   the Ray actor: one per GPU (or per cpus_per_worker on CPU), holding the loaded executor across jobs
- queue.py    the driver's work queue: batches ordered by estimated cost (largest first), retries, placement
- driver.py   RayExecution: hands batches to workers and gives every finished batch to the sweep's RecordSink
              (the driver is the only writer of the results folder: workers return records' data and audio arrays)
"""
from .connect import ClusterError, INSTALL_HINT
from .driver import ExecutorFactory, RayExecution, execution_for

__all__ = ["ClusterError", "INSTALL_HINT", "ExecutorFactory", "RayExecution", "execution_for"]
