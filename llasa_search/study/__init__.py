"""The scaling-study pipeline: datasets -> sweep jobs -> executor -> append-only store -> tables and plots.

    from llasa_search.study import load_config, run_sweep, make_report
    from llasa_search.study.executors import EspeakExecutor
    run_sweep(load_config("experiments/configs/demo.yaml"), "runs/demo", executor)
    make_report("runs/demo", "runs/demo/report")
"""
from .config import ConfigError, SweepConfig, load_config, parse_config
from .items import StudyItem
from .jobs import Job, expand_jobs
from .records import CandidateOutput, JobOutput, comparable
from .runner import ConfigMismatchError, run_sweep
from .store import ResultStore, StoreCorruptionWarning

__all__ = ["CandidateOutput", "ConfigError", "ConfigMismatchError", "Job", "JobOutput", "ResultStore",
           "StoreCorruptionWarning", "StudyItem", "SweepConfig", "comparable", "expand_jobs", "load_config",
           "make_report", "parse_config", "run_sweep"]


def __getattr__(name):
    if name == "make_report":  # matplotlib/pandas only when a report is asked for
        from .report import make_report

        return make_report
    raise AttributeError(name)
