"""Checks a search can run before anything is generated: strategy name and options, selection rule, verifier names,
verifier options and availability, and whether each verifier that chooses can judge the request it will see.

    strategy = check_strategy("beam", {"step_tokens": 25})           # -> Strategy, or ConfigError
    verifiers = check_verifiers(["sim_resemblyzer"], {"sim_resemblyzer": {"device": "cpu"}})
    check_can_judge(strategy, verifiers, verify_context(text="Hi.", reference_audio=None))  # -> ConfigError

No model loads here: verifiers are constructed (their models load lazily) and asked `check_available()`, which
only looks for packages and local folders. Every failure is a `ConfigError` or `verifiers.VerifierUnavailable`
with one line that says what to change.
"""
from __future__ import annotations

from typing import Iterable

from .errors import ConfigError, LlasaSearchError
from .verify_context import verify_context


def check_strategy(name: str, options: dict | None):
    """The strategy object for `name` with `options`, its selection rule checked too."""
    from .search.registry import make_strategy, strategy_class
    from .search.selection import SelectionRule

    try:
        strategy_class(name)
    except KeyError as e:
        raise ConfigError(str(e).strip("'\"")) from None
    strategy = make_strategy(name, options or {})
    selection = getattr(strategy.config, "selection", None)
    if selection is not None:
        try:
            SelectionRule.from_any(selection)
        except TypeError as e:
            raise ConfigError(f"{name}: selection {selection!r}: {e}") from None
    return strategy


def check_verifier_name(name: str) -> None:
    from verifiers.registry import verifier_names

    known = sorted(verifier_names())
    if name not in known:
        raise ConfigError(f"unknown verifier {name!r}; available: {', '.join(known)}")


def check_available(name: str, verifier) -> None:
    """Raise verifiers.VerifierUnavailable when the verifier's package or model folder is missing (fast, no load)."""
    verifier.check_available()


def check_verifiers(names: Iterable[str], options: dict | None = None) -> dict:
    """name -> constructed verifier (models load lazily), each checked to be available here."""
    from verifiers import create_verifier

    options = options or {}
    out = {}
    for name in dict.fromkeys(names):
        check_verifier_name(name)
        opts = options.get(name, {})
        try:
            verifier = create_verifier(name, **opts)
        except LlasaSearchError:
            raise
        except (TypeError, ValueError) as e:   # constructor rejected the user's --verifier-option values
            raise ConfigError(f"verifier {name!r} with options {opts}: {e}") from None
        check_available(name, verifier)
        out[name] = verifier
    return out


def check_can_judge(strategy, verifiers: dict, ctx, where: str = "this request") -> None:
    """Each verifier the strategy chooses with must be able to judge `ctx`; the PRM must judge partial audio."""
    prm = getattr(strategy.config, "prm_verifier", None)
    for name in strategy.required_verifiers():
        verifier = verifiers[name]
        role = "PRM" if name == prm else "verifier"
        if name == prm and not verifier.supports_partial:
            raise ConfigError(f"{strategy.name}: PRM {name!r} only judges complete utterances, so it cannot guide a "
                              f"step-level search; choose another prm_verifier (use {name!r} as the final verifier)")
        reason = verifier.can_judge(ctx)
        if reason:
            raise ConfigError(f"{strategy.name}'s {role} {name!r} cannot judge {where}: {reason}")
    if prm is not None and prm in verifiers and hasattr(strategy.config, "decode_window"):
        check_partial_window(strategy, verifiers[prm])


def check_partial_window(strategy, prm) -> None:
    """A tree strategy's partial-decoding window must give its PRM enough audio to judge."""
    from .prompts import SPEECH_TOKENS_PER_SECOND
    from .search.partial_window import check_window_fits
    from .search.tree import min_score_tokens

    cfg = strategy.config
    seconds = min_score_tokens(prm, cfg.tree_settings()) / SPEECH_TOKENS_PER_SECOND
    try:
        check_window_fits(cfg.decode_window(), cfg.prm_verifier, prm, seconds)
    except ConfigError as e:
        raise ConfigError(f"{strategy.name}: {e}") from None


__all__ = ["verify_context", "check_strategy", "check_verifiers", "check_available", "check_can_judge",
           "check_verifier_name"]
