"""A Ray sweep with the offline espeak executor, slowed down so a test can kill things partway (run as a subprocess
by test_ray_cluster.py):  python _ray_sweep_driver.py CONFIG OUT ADDRESS WORKERS DELAY_S"""
import sys
import time

from llasa_search.study.cluster import RayExecution
from llasa_search.study.config import load_config, parse_execution
from llasa_search.study.executors import EspeakExecutor
from llasa_search.study.runner import run_sweep


class SlowEspeak:
    """The real espeak executor; the pause before each batch leaves the test time to kill a process."""
    name = "espeak"

    def __init__(self, delay: float):
        self.delay = delay
        self.inner = EspeakExecutor()

    def __call__(self, jobs):
        time.sleep(self.delay)
        return self.inner(jobs)


class Factory:   # defined in __main__, so Ray ships it to the workers by value
    def __init__(self, delay: float):
        self.delay = delay

    def __call__(self):
        return SlowEspeak(self.delay)


def main():
    config, out, address, workers, delay = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    cfg = load_config(config)
    spec = parse_execution({"backend": "ray", "address": address, "workers": workers})
    ex = RayExecution(Factory(delay), spec, name="espeak")
    summary = run_sweep(cfg, out, ex, progress=False)
    print(summary, flush=True)
    print("STATS", ex.stats, flush=True)
    sys.exit(1 if summary.failed else 0)


if __name__ == "__main__":
    main()
