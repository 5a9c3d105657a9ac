"""Search progress bars follow the user's TQDM_DISABLE (tqdm's own variable is overridden by disable=False)."""
from __future__ import annotations

import pytest

from llasa_search.search.stepping import bar_disabled


@pytest.mark.parametrize("value,hidden", [("", False), ("0", False), ("false", False), ("1", True), ("True", True)])
def test_bar_disabled_follows_tqdm_disable(monkeypatch, value, hidden):
    monkeypatch.setenv("TQDM_DISABLE", value)
    assert bar_disabled(False) is hidden
    assert bar_disabled(True) is True
