"""check_sweep: everything a sweep can get wrong that is knowable before its first job, checked up front.

Every strategy x budget of the config is planned and built (options and selection rule), every verifier is
constructed (models load lazily) and asked whether it is available here, and each verifier that chooses among a
strategy's candidates is asked whether it can judge the items it will see (e.g. a speaker-similarity PRM on a
dataset without voice prompts). One representative item per kind of request (task, language, prompt or not,
target emotion or not) of each dataset is enough: can_judge looks at what a request carries, not at its content.
"""
from __future__ import annotations

from ..errors import ConfigError
from ..preflight import check_available, check_can_judge, check_strategy
from ..verify_context import verify_context
from .config import SweepConfig
from .items import StudyItem, prompt_audio


def request_kinds(items: list[StudyItem]) -> list[StudyItem]:
    """The first item of each kind of request among `items`."""
    seen: dict[tuple, StudyItem] = {}
    for it in items:
        uses_prompt = bool(it.prompt_wav) and it.task != "tts"
        seen.setdefault((it.task, it.language, uses_prompt, it.target_emotion is not None), it)
    return list(seen.values())


def item_context(item: StudyItem):
    """What the search's verifiers see for this item (the executor sends no prompt for a tts item)."""
    reference = prompt_audio(item) if item.task != "tts" else None
    return verify_context(item.text, reference, item.language, item.target_emotion, key=item.utt_id)


def check_sweep(config: SweepConfig, executor, load_items) -> None:
    """Raise ConfigError (or verifiers.VerifierUnavailable) before any job of `config` runs on `executor`."""
    get_verifier = getattr(executor, "verifier", None)
    if get_verifier is None:
        return
    names = dict.fromkeys([*config.evaluation_verifiers, *(v for s in config.strategies for v in s.verifiers)])
    for name in names:
        check_available(name, get_verifier(name))
    plan = getattr(executor, "plan", None)   # executors that run the search strategies
    if plan is None:
        return
    kinds = [(ds.name, it, item_context(it)) for ds in config.datasets for it in request_kinds(load_items(ds))]
    for st in config.strategies:
        for budget in ([max(st.budgets)] if st.pool else st.budgets):
            planned = plan(st, budget)
            try:
                strategy = check_strategy(planned.strategy, planned.options)
            except ConfigError as e:
                raise ConfigError(f"strategy {st.name!r}, budget {budget}: {e}") from None
            verifiers = {v: get_verifier(v) for v in strategy.required_verifiers()}
            for for_ds, item, ctx in kinds:
                where = (f"dataset {for_ds!r}'s {item.task} items (e.g. {item.utt_id!r}"
                         f"{', no voice prompt' if ctx.reference_audio is None else ''})")
                try:
                    check_can_judge(strategy, verifiers, ctx, where)
                except ConfigError as e:
                    raise ConfigError(f"strategy {st.name!r}: {e}") from None


__all__ = ["check_sweep", "request_kinds"]
