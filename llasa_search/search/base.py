"""The strategy interface. A strategy gets prepared requests (several utterances at once) and a context,
and returns one SearchResult per request. Each strategy has its own validated config dataclass."""
from __future__ import annotations

import dataclasses
import zlib
from abc import ABC, abstractmethod
from typing import ClassVar

from ..errors import ConfigError
from ..generation.rng import derive_seed


BUDGET_UNITS = ("generated_tokens", "forwarded_tokens")


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
    name: ClassVar[str] = "strategy"
    config_class: ClassVar[type] = StrategyConfig

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


def request_seed(seed: int, request_id: str) -> int:
    """Per-utterance root seed from the run seed and the utterance id, so an utterance's result does not
    depend on which other utterances share its batch or on their order."""
    return derive_seed(int(seed) & 0xFFFFFFFF, zlib.crc32(str(request_id).encode()), 0)


def budget_spent(ctx, config: StrategyConfig, request_id) -> bool:
    """True once the utterance has used its token budget (never, without one)."""
    if config.budget_tokens is None:
        return False
    return getattr(ctx.request_ledgers[request_id], config.budget_unit) >= config.budget_tokens


def max_length_for(req, config: StrategyConfig, context: int) -> int:
    if config.max_new_tokens is None:
        return context
    return min(context, len(req.prompt_ids) + config.max_new_tokens)
