"""Every shipped experiment config must plan into valid strategy options for every budget, before any model
loads: a config the executor would reject at run time is a broken deliverable."""
from pathlib import Path

import pytest

from llasa_search.search import strategy_class
from llasa_search.study.config import load_config
from llasa_search.study.executors.engine import plan_search

from .test_experiment_configs import CONFIGS as CONFIG_PATHS   # found from the repo, not the cwd

REPO = Path(__file__).resolve().parents[2]
CONFIGS = [str(p) for p in CONFIG_PATHS]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: Path(p).name)
def test_config_plans_for_every_budget(path):
    config = load_config(path)
    for spec in config.strategies:
        planned = [plan_search(spec, b) for b in spec.budgets]
        for plan in planned:
            # the planned options are accepted by the strategy's own validated config class
            strategy_class(plan.strategy).config_class.from_dict(plan.options)
        if len(spec.budgets) > 1:
            # different budgets must run different searches
            assert len({repr(sorted(p.options.items())) for p in planned}) == len(spec.budgets), spec.name


def test_verifier_options_reach_the_executor(tmp_path):
    import yaml

    from llasa_search.study.config import ConfigError as StudyConfigError
    from llasa_search.study.executors.engine import make_executor

    d = yaml.safe_load((REPO / "experiments/configs/demo.yaml").read_text())
    d["verifier_options"] = {"pocketsphinx": {"lm": "general"}}
    config = load_config_from(d, tmp_path)
    assert config.verifier_options == {"pocketsphinx": {"lm": "general"}}
    executor = make_executor(config, verifier_options={"sim_resemblyzer": {"batch_size": 2}})
    assert executor.verifier_options == {"pocketsphinx": {"lm": "general"}, "sim_resemblyzer": {"batch_size": 2}}
    d["verifier_options"] = {"not_a_verifier": {}}
    with pytest.raises(StudyConfigError, match="not_a_verifier"):
        load_config_from(d, tmp_path)


def load_config_from(d, tmp_path):
    import yaml

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(d))
    return load_config(str(path))
