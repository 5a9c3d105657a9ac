"""RayExecution: run a sweep's batches on Ray workers; run_sweep persists what they return (RecordSink).

Scheduling: batches (the same ones a local run makes) leave the WorkQueue largest estimated cost first; each worker
holds one running batch plus `batches_ahead` queued on it, so it never waits for the driver.
Faults: a worker that dies (killed, OOM, node lost) has its batches put back at the head of the queue and is
replaced; the batch it was running counts one attempt. A batch whose executor raised counts one attempt and is
tried on another worker first. After max_retries + 1 attempts its jobs are written to failures.jsonl (never lost)
and the sweep ends non-zero; rerunning the command retries them. Seeds travel with the jobs, so a retried job gives
the same result as a first run.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from ...errors import ConfigError
from .connect import ClusterError, connect, import_ray, no_fit_message, preflight, worker_shape
from .queue import QueuedBatch, WorkQueue
from .worker import SweepWorker

log = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 600.0   # a worker not up by then (no resources, no autoscaler) ends the sweep with an error


@dataclass(frozen=True)
class ExecutorFactory:
    """Builds the executor on a worker (pickled to it; models load there, never on the driver)."""
    name: str
    config: object = None
    options: dict = field(default_factory=dict)

    def __call__(self):
        from ..executors import get_executor

        return get_executor(self.name, config=self.config, **self.options)


def execution_for(config, executor, executor_name: str, ray_address: str | None = None, workers: int | None = None):
    """What run_sweep runs: `executor` itself (local), or a RayExecution when --ray or execution.backend says so."""
    from ..config import parse_execution

    spec = config.execution
    over = {k: v for k, v in vars(spec).items()}
    if ray_address is not None:
        over.update(backend="ray", address=ray_address)
    if workers is not None:
        if over["backend"] != "ray":
            raise ConfigError("--workers needs --ray ADDRESS (or execution.backend: ray in the config)")
        over["workers"] = workers
    spec = parse_execution(over, "--ray/--workers" if (ray_address or workers is not None) else "execution")
    if spec.backend != "ray":
        return executor
    return RayExecution(ExecutorFactory(executor_name, config), spec,
                        name=getattr(executor, "name", None) or executor_name)


@dataclass
class _Worker:
    handle: object
    index: int
    ready: bool = False
    info: dict = field(default_factory=dict)
    inflight: list = field(default_factory=list)   # object refs, oldest (running) first


def _short(e: BaseException) -> str:
    """The error a worker raised, in one line (Ray wraps it with a traceback)."""
    cause = getattr(e, "cause", None)
    if isinstance(cause, BaseException) and not type(cause).__name__.startswith("Ray"):
        return f"{type(cause).__name__}: {cause}".strip()
    lines = [x.strip() for x in str(e).strip().splitlines() if x.strip()]
    err = [x for x in lines if ("Error" in x or "Exception" in x) and ":" in x]
    return (err[-1] if err else lines[-1] if lines else type(e).__name__)[:500]


class RayExecution:
    def __init__(self, factory, spec, name: str, startup_timeout_s: float = STARTUP_TIMEOUT_S):
        preflight(spec.address)
        self.factory, self.spec, self.name = factory, spec, name
        self.startup_timeout_s = startup_timeout_s
        # driver_busy_s: wall time not spent waiting for workers (receiving, persisting, scheduling);
        # completed: (seconds since the workers were asked for, jobs) per finished batch
        # worker_s: seconds the workers spent inside the executor
        self.stats = {"jobs": 0, "batches": 0, "driver_busy_s": 0.0, "wall_s": 0.0, "workers": 0, "retries": 0,
                      "lost_workers": 0, "worker_s": 0.0, "completed": []}

    def run_batches(self, batches, sink) -> None:
        queue = WorkQueue(batches)
        if not queue.total:
            return
        connect(self.spec.address)
        ray = import_ray()
        try:
            self._run(ray, queue, sink)
        finally:
            ray.shutdown()   # disconnects from a cluster; stops an instance started for `local`

    # ------------------------------------------------------------------------------------------------------
    def _run(self, ray, queue: WorkQueue, sink) -> None:
        from ray.exceptions import RayActorError, RayError, RayTaskError

        spec = self.spec
        resources = ray.cluster_resources()
        cpus, gpus, fit = worker_shape(resources, spec)
        if fit == 0 and (spec.address == "local" or not spec.workers):
            raise ClusterError(no_fit_message(spec.address, resources, cpus, gpus)
                               + ("" if spec.address == "local" else "; or give --workers N to wait for an "
                                  "autoscaler to add them"))
        n = min(spec.workers or fit, queue.total)
        if n > fit:
            log.warning("%d workers asked for, %d fit the cluster now (%s): the rest start if resources appear",
                        n, fit, resources)
        log.info("Ray: %d worker(s) of %g CPU / %g GPU on a cluster with %s", n, cpus, gpus, resources)
        actor = ray.remote(num_cpus=cpus, num_gpus=gpus, max_restarts=0, scheduling_strategy="SPREAD")(SweepWorker)
        workers: dict[int, _Worker] = {}
        refs: dict = {}                  # object ref -> ("ready", index) | ("run", index, QueuedBatch)
        counter = {"next": 0, "replacements": 0}
        startup_errors: list[str] = []
        max_replacements = n * (spec.max_retries + 1)

        def start_worker() -> None:
            i = counter["next"]
            counter["next"] += 1
            h = actor.remote(self.factory, i, max(1, int(cpus)))
            workers[i] = _Worker(h, i)
            refs[h.ready.remote()] = ("ready", i)

        def lose_worker(i: int, why: str) -> None:
            """A dead worker's batches go back to the queue; the one it was running counts an attempt."""
            w = workers.pop(i, None)
            if w is None:
                return
            self.stats["lost_workers"] += 1
            log.warning("worker %d (%s) lost: %s", i, w.info, why)
            for k, ref in enumerate(w.inflight):
                b: QueuedBatch = refs.pop(ref)[2]
                if k == 0:
                    b.attempts += 1
                    b.errors.append(f"worker lost: {why}")
                    b.avoid.add(i)
                self.stats["retries"] += 1
                if b.attempts > spec.max_retries:
                    sink.fail(b.jobs, b.errors[-1], b.attempts, w.info)
                else:
                    queue.retry(b)
            try:
                ray.kill(w.handle, no_restart=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
            if w.ready and counter["replacements"] < max_replacements and (len(queue) or any_inflight()):
                counter["replacements"] += 1
                start_worker()

        def any_inflight() -> bool:
            return any(w.inflight for w in workers.values())

        for _ in range(n):
            start_worker()
        t_start = time.perf_counter()
        deadline = time.monotonic() + self.startup_timeout_s
        blocked = 0.0
        while len(queue) or any_inflight():
            alive = {i for i, w in workers.items() if w.ready}
            for i in sorted(alive):
                w = workers[i]
                while len(w.inflight) < 1 + spec.batches_ahead:
                    b = queue.take(i, alive)
                    if b is None:
                        break
                    ref = w.handle.run.remote(b.id, b.jobs)
                    w.inflight.append(ref)
                    refs[ref] = ("run", i, b)
            sink.progress.set_workers(len(alive), n)
            if not workers:
                raise ClusterError(f"all workers were lost ({self.stats['lost_workers']} in total; last errors: "
                                   f"{'; '.join(startup_errors[-2:]) or 'see above'}); {len(queue)} batch(es) not run. "
                                   f"Finished jobs are saved: rerun the same command to continue")
            if not alive and time.monotonic() > deadline:
                raise ClusterError(f"no worker started within {self.startup_timeout_s:.0f} s: "
                                   + no_fit_message(spec.address, ray.cluster_resources(), cpus, gpus))
            t0 = time.perf_counter()
            done, _ = ray.wait(list(refs), num_returns=1, timeout=1.0)
            blocked += time.perf_counter() - t0
            for ref in done:
                if ref not in refs:     # dropped with a lost worker
                    continue
                what = refs[ref]
                i = what[1]
                if what[0] == "ready":
                    refs.pop(ref)
                    try:
                        workers[i].info = ray.get(ref)
                        workers[i].ready = True
                    except RayActorError as e:
                        startup_errors.append(_short(e))
                        log.warning("worker %d could not start: %s", i, startup_errors[-1])
                        workers.pop(i, None)
                        if not workers:
                            raise ClusterError(f"no worker could start: {startup_errors[-1]}") from None
                    continue
                b: QueuedBatch = what[2]
                try:
                    _bid, outputs, wall = ray.get(ref)
                except RayTaskError as e:   # the executor raised: another attempt, on another worker first
                    refs.pop(ref)
                    workers[i].inflight.remove(ref)
                    b.attempts += 1
                    b.errors.append(_short(e))
                    b.avoid.add(i)
                    log.warning("batch %d failed on worker %d (attempt %d): %s", b.id, i, b.attempts, b.errors[-1])
                    if b.attempts > spec.max_retries:
                        sink.fail(b.jobs, b.errors[-1], b.attempts, workers[i].info)
                    else:
                        self.stats["retries"] += 1
                        queue.retry(b)
                    continue
                except (RayActorError, RayError) as e:  # the worker died (killed, OOM, node lost) or its result
                    lose_worker(i, _short(e))            # was lost: its batches run again elsewhere
                    continue
                refs.pop(ref)
                workers[i].inflight.remove(ref)
                sink.done(b.jobs, outputs, wall, worker=workers[i].info)
                self.stats["jobs"] += len(b.jobs)
                self.stats["batches"] += 1
                self.stats["worker_s"] += wall * len(b.jobs)
                self.stats["completed"].append((time.perf_counter() - t_start, len(b.jobs)))
        self.stats["workers"] = n
        self.stats["wall_s"] = time.perf_counter() - t_start
        self.stats["driver_busy_s"] = self.stats["wall_s"] - blocked
        for w in workers.values():
            try:
                ray.kill(w.handle, no_restart=True)
            except Exception:  # noqa: BLE001
                pass
