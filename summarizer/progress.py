"""Progress bars per stage: shown on a terminal, silent under cron."""

from __future__ import annotations

from typing import Any


class StageProgress:
    """A tqdm bar whose total grows as work is queued (e.g. summary rounds)."""

    def __init__(self, description: str, enabled: bool) -> None:
        self._bar: Any = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=0, desc=description, unit="seg", dynamic_ncols=True)

    def add(self, count: int) -> None:
        """Queue ``count`` more units of work."""
        if self._bar is not None:
            self._bar.total += count
            self._bar.refresh()

    def advance(self, count: int) -> None:
        """Mark ``count`` units done."""
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        """Finish the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> StageProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
