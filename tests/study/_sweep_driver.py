"""Run a sweep with the offline espeak executor (used as a subprocess by test_sweep_resume.py)."""
import sys
import time

from llasa_search.study.executors import EspeakExecutor
from llasa_search.study.runner import run_sweep


def main():
    config, out, delay = sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    ex = EspeakExecutor()

    def slow(jobs):  # gives the test time to kill the process partway; the work itself is the real executor's
        time.sleep(delay)
        return ex(jobs)

    slow.name = "espeak"
    print(run_sweep(config, out, slow, progress=False), flush=True)


if __name__ == "__main__":
    main()
