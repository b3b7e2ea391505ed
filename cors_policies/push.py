"""Push: tell every process at once that the policies changed (a stub until the push branch lands).

The interface the write path and the snapshot use: :func:`announce` after a commit, :func:`start` to run this
process's listener (calling ``on_change`` per message and after each reconnect), :func:`stop`. Here they do
nothing, so every process relies on its interval check (``REFRESH_INTERVAL``).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["announce", "start", "stop"]


def announce(using: str, version: int) -> None:
    """After a commit: tell every process that ``version`` is out (never raises)."""


def start(on_change: Callable[[int | None], None]) -> None:
    """Make sure this process's listener runs (idempotent, cheap, fork-safe)."""


def stop() -> None:
    """Stop this process's listener, if any."""
