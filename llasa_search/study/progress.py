"""One progress bar for a sweep, local or on a cluster: jobs (with tqdm's ETA), candidates, generated tokens/s,
failed jobs and, on a cluster, workers alive."""
from __future__ import annotations

import time


class SweepProgress:
    def __init__(self, total: int, initial: int, desc: str, enabled: bool = True):
        self.candidates = 0
        self.tokens = 0
        self.failed = 0
        self.workers: tuple[int, int] | None = None
        self._t0 = time.perf_counter()
        self._bar = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, initial=initial, desc=desc, unit="job", dynamic_ncols=True)

    def job_done(self, record: dict) -> None:
        led = record.get("ledger") or {}
        self.candidates += int(led.get("candidates") or 0)
        self.tokens += int(led.get("generated_tokens") or 0)
        if self._bar is not None:
            self._bar.update(1)
            self._refresh()

    def job_failed(self, n: int = 1) -> None:
        self.failed += n
        if self._bar is not None:
            self._bar.update(n)
            self._refresh()

    def set_workers(self, alive: int, total: int) -> None:
        self.workers = (alive, total)
        if self._bar is not None:
            self._refresh()

    def postfix(self) -> str:
        rate = self.tokens / max(1e-9, time.perf_counter() - self._t0)
        s = f"cand={self.candidates} tok/s={rate:.0f}"
        if self.failed:
            s += f" failed={self.failed}"
        if self.workers is not None:
            s += f" workers={self.workers[0]}/{self.workers[1]}"
        return s

    def _refresh(self) -> None:
        self._bar.set_postfix_str(self.postfix(), refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
