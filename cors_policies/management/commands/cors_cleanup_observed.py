"""``manage.py cors_cleanup_observed [--days N] [--max-rows N]``: apply the observed-origins retention now.

Each process's writer also prunes (hourly, and after many rows), so this is for a cron job on sites that
want it at a fixed time, or to shrink the table at once after lowering the settings.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...conf import conf
from ...observed import prune


def _days(value: str) -> float:
    try:
        days = float(value)
    except ValueError:
        days = -1.0
    if not days >= 0:  # also refuses NaN
        raise CommandError(f"--days must be a number of days of 0 or more, such as --days 30, not {value!r}.")
    return days


def _rows(value: str) -> int:
    if not (value.isascii() and value.isdigit()):
        raise CommandError(f"--max-rows must be a whole number of 0 or more, such as --max-rows 100000, not {value!r}.")
    return int(value)


def _number(value: float) -> str:
    return f"{value:g}"


class Command(BaseCommand):
    help = (
        "Delete observed-origin rows not seen for OBSERVE_RETENTION_DAYS (or --days), those beyond the "
        "OBSERVE_MAX_ROWS most recently seen (or --max-rows), and those of deleted policies."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", help="Retention in days (default: OBSERVE_RETENTION_DAYS).")
        parser.add_argument("--max-rows", help="Rows to keep at most (default: OBSERVE_MAX_ROWS).")

    def handle(self, *args: Any, days: str | None = None, max_rows: str | None = None, **options: Any) -> None:
        retention = float(conf.valid("OBSERVE_RETENTION_DAYS")) if days is None else _days(days)
        limit = int(conf.valid("OBSERVE_MAX_ROWS")) if max_rows is None else _rows(max_rows)
        result = prune(retention_days=retention, max_rows=limit)
        if not result.total:
            self.stdout.write(
                f"No observed-origin row to delete (retention {_number(retention)} days, at most {limit} rows)."
            )
            return
        noun = "row" if result.total == 1 else "rows"
        self.stdout.write(
            f"Deleted {result.total} observed-origin {noun}: {result.expired} not seen for {_number(retention)} "
            f"days, {result.trimmed} beyond the {limit} most recent, {result.orphaned} of deleted policies."
        )
