"""The strategy interface. A strategy gets prepared requests (several utterances at once) and a context,
and returns one SearchResult per request. Each strategy has its own validated config dataclass."""
from __future__ import annotations

import dataclasses
import math
import zlib
from abc import ABC, abstractmethod
from typing import ClassVar, Sequence

from ..compute import CANDIDATES, COMPUTE_UNITS
from ..errors import ConfigError
from ..seeds import derive_seed

BUDGET_UNITS = COMPUTE_UNITS   # units of `budget_tokens` (a candidate budget is mapped onto options instead)


@dataclasses.dataclass
class StrategyConfig:
    """Options every strategy has. `max_new_tokens` caps each candidate's speech tokens (None: the model's
    context). `budget_tokens` (with `budget_unit`) caps what one utterance may spend in LM tokens; how a
    strategy spends it is in its docstring. Subclasses add their own fields and check them in `validate`."""

    max_new_tokens: int | None = None
    budget_tokens: int | None = None
    budget_unit: str = "generated_tokens"

    def __post_init__(self):
        self._check_types()
        if self.max_new_tokens is not None and self.max_new_tokens <= 0:
            raise ConfigError("max_new_tokens must be positive")
        if self.budget_tokens is not None and self.budget_tokens <= 0:
            raise ConfigError("budget_tokens must be positive (or null for no token budget)")
        if self.budget_unit not in BUDGET_UNITS:
            raise ConfigError(f"budget_unit must be one of {BUDGET_UNITS} (got '{self.budget_unit}')")
        self.validate()

    def validate(self) -> None:
        pass

    def _check_types(self) -> None:
        """Counts must be ints (YAML or `-o n=2.0` easily give floats, which would fail only after the prefill)."""
        for f in dataclasses.fields(self):
            value, kind = getattr(self, f.name), str(f.type).replace(" ", "")
            if value is None and kind.endswith("|None"):
                continue
            if kind.startswith("int") and (not isinstance(value, int) or isinstance(value, bool)):
                raise ConfigError(f"{type(self).__name__}.{f.name} must be an integer, got {value!r}")
            if kind.startswith("float") and (not isinstance(value, (int, float)) or isinstance(value, bool)):
                raise ConfigError(f"{type(self).__name__}.{f.name} must be a number, got {value!r}")

    @classmethod
    def from_dict(cls, options: dict | None) -> "StrategyConfig":
        options = dict(options or {})
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - names)
        if unknown:
            raise ConfigError(f"{cls.__name__} has no option(s) {unknown}; valid options: {sorted(names)}")
        try:
            return cls(**options)
        except TypeError as exc:
            raise ConfigError(f"{cls.__name__}: {exc}") from exc

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


class Strategy(ABC):
    """A search strategy. Besides `search`, a strategy says what a budget means for it, so sweeps need no
    per-strategy code (a new strategy is one module plus one `register` line):

    - `budget_options`: options a budget in candidates sets, in the order it fills them. The budget is the number
      of candidates (children per step for tree search) = the product of these options; it sets the first one the
      user left unset to budget // (product of the others). Empty: the strategy makes one candidate (budget 1).
    - `budget_units`: units its budgets may be in. Compute units go to the config as `budget_tokens` +
      `budget_unit`, which the strategy itself must spend (see `budget_spent`).
    - `compute_budget_defaults`: options set (unless given) when the budget is in a compute unit.
    - `verifier_slots`: options the search verifiers fill, in order; a slot ending in "*" takes the rest as a list.
    - `pooled`: a budget of n candidates is n independent samples chosen by the `verifiers` option with a
      `selection` rule, so a sweep may draw max(budgets) once and read smaller budgets from that pool (the exact
      best-of-n estimator of study/bestofn.py).
    """
    name: ClassVar[str] = "strategy"
    config_class: ClassVar[type] = StrategyConfig
    budget_options: ClassVar[tuple[str, ...]] = ()
    budget_units: ClassVar[tuple[str, ...]] = (CANDIDATES, *COMPUTE_UNITS)
    compute_budget_defaults: ClassVar[dict] = {}
    verifier_slots: ClassVar[tuple[str, ...]] = ()
    pooled: ClassVar[bool] = False

    def __init__(self, config: StrategyConfig | dict | None = None):
        if not isinstance(config, StrategyConfig):
            config = self.config_class.from_dict(config)
        elif not isinstance(config, self.config_class):
            raise ConfigError(f"{self.name} needs a {self.config_class.__name__}, got {type(config).__name__}")
        self.config = config

    @abstractmethod
    def search(self, ctx, requests: list, seed: int) -> list:
        """-> one SearchResult per prepared request, in order."""

    def required_verifiers(self) -> list[str]:
        return []

    # -- what a budget means for this strategy ------------------------------------------------------------------
    @classmethod
    def options_for_budget(cls, budget: int, unit: str, options: dict | None = None,
                           verifiers: Sequence[str] = ()) -> tuple[dict, dict]:
        """(options, set_by_budget): the config options one budget runs with. `options` given explicitly are
        kept; the budget fills the rest (see the class docstring). Raises ConfigError saying what to change."""
        opts = dict(options or {})
        if unit not in cls.budget_units:
            raise ConfigError(f"{cls.name} takes budgets in {list(cls.budget_units)}, not {unit}")
        cls.fill_verifiers(opts, verifiers)
        if unit != CANDIDATES:
            if "budget_tokens" in opts:
                raise ConfigError("budget_tokens is set by the budget; remove it from options")
            for k, v in cls.compute_budget_defaults.items():
                opts.setdefault(k, v)
            opts["budget_tokens"], opts["budget_unit"] = int(budget), unit
            return opts, {"budget_tokens": int(budget)}
        return opts, cls.candidate_options(int(budget), opts)

    @classmethod
    def candidate_options(cls, budget: int, opts: dict, required: bool = True) -> dict:
        """Set the first unset `budget_options` entry from a budget in candidates (in place); -> what it set.
        `required`: a budget that changes nothing is an error."""
        names = cls.budget_options
        if not names:
            if budget != 1:
                raise ConfigError(f"{cls.name} makes one candidate; its budgets must be [1], got {budget}")
            return {}
        free = [o for o in names if o not in opts]
        if not free:
            if required:
                raise ConfigError(f"options fix {list(names)}, which are set by the budget here, so the budget "
                                  f"changes nothing; leave one of them out (remove options.{names[0]})")
            return {}
        defaults = {f.name: f.default for f in dataclasses.fields(cls.config_class)}
        others = [o for o in names if o != free[0]]
        fixed = math.prod(int(opts.get(o, defaults.get(o, 1))) for o in others)
        others = ", ".join(others)
        if budget < fixed:
            raise ConfigError(f"budget {budget} is below the {fixed} candidates per step the fixed options ({others}) "
                              f"already make; use budgets >= {fixed}")
        if budget % fixed:   # budget // fixed would run fewer candidates than the budget its results are labelled with
            raise ConfigError(f"budget {budget} is not a multiple of the {fixed} candidates per step the fixed options "
                              f"({others}) make; use budgets that are multiples of {fixed}")
        opts[free[0]] = budget // fixed
        return {free[0]: budget // fixed}

    @classmethod
    def fill_verifiers(cls, opts: dict, verifiers: Sequence[str]) -> None:
        """Search verifiers, in order, fill `verifier_slots` the options leave unset (in place)."""
        verifiers = list(verifiers)
        slots = cls.verifier_slots
        if slots and not slots[-1].endswith("*") and len(verifiers) > len(slots):
            raise ConfigError(f"{cls.name} uses {len(slots)} search verifier(s) ({', '.join(slots)}), "
                              f"got {verifiers}")
        for i, slot in enumerate(slots):
            if slot.endswith("*"):
                rest = verifiers[i:]
                if rest and slot[:-1] not in opts:
                    opts[slot[:-1]] = rest
                return
            if i < len(verifiers) and slot not in opts:
                opts[slot] = verifiers[i]


def request_seed(seed: int, request_id: str) -> int:
    """Per-utterance root seed from the run seed and the utterance id, so an utterance's result does not
    depend on which other utterances share its batch or on their order."""
    return derive_seed(int(seed) & 0xFFFFFFFF, zlib.crc32(str(request_id).encode()), 0)


def budget_spent(ctx, config: StrategyConfig, request_id) -> bool:
    """True once the utterance has used its token budget (never, without one)."""
    return budget_left(ctx, config, request_id) <= 0


def budget_left(ctx, config: StrategyConfig, request_id) -> float:
    """What the utterance may still spend, in the config's budget unit (inf without a budget)."""
    if config.budget_tokens is None:
        return math.inf
    led = ctx.request_ledgers[request_id]
    spent = getattr(led, config.budget_unit)
    if config.budget_unit == "flops":
        spent += pending_outcome_flops(ctx, led)
    return config.budget_tokens - spent


def pending_outcome_flops(ctx, led) -> float:
    """FLOPs an utterance has committed but not yet been charged: decoding and scoring the tokens it generated, as
    far as its codec and verifier charges do not cover them yet (best_of_n decodes and scores only at the end)."""
    per_token = getattr(ctx, "outcome_flops_per_token", None)
    if per_token is None:
        return 0.0
    charged = led.flops - led.component_flops.get("lm", 0.0)
    return max(0.0, led.generated_tokens * per_token() - charged)


def budget_left_tokens(ctx, config: StrategyConfig, request_id) -> float:
    """`budget_left` in tokens, for sizing generation steps: a FLOPs budget is divided by the utterance's FLOPs per
    generated token so far (LM, codec and verifiers together; before its first token, one token of the LM at the
    prompt's end). Checked between LM steps: the decode and scoring of the last step come on top."""
    left = budget_left(ctx, config, request_id)
    if config.budget_unit != "flops" or not math.isfinite(left):
        return left
    led = ctx.request_ledgers[request_id]
    if led.generated_tokens:
        per_token = led.flops / led.generated_tokens
    else:
        per_token = ctx.backend.lm_cost.forward_flops(led.prefilled_tokens, 1)
    return left / max(per_token, 1.0)


def max_length_for(req, config: StrategyConfig, context: int) -> int:
    if config.max_new_tokens is None:
        return context
    return min(context, len(req.prompt_ids) + config.max_new_tokens)
