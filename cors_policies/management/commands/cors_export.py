"""``manage.py cors_export [FILE]``: every policy as the document ``cors_apply`` and the API's import take."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...services import documents


class Command(BaseCommand):
    help = (
        'Write every policy, enabled or not, as {"policies": [...]} (the REST API\'s fields, by name, without '
        "ids or timestamps) to FILE, or to standard output. Apply it with cors_apply."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", metavar="FILE", help="Where to write (default: standard output).")

    def handle(self, *args: Any, file: str | None = None, **options: Any) -> None:
        document = documents.export_document()
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        if file is None or file == "-":
            self.stdout.write(text, ending="")
            return
        try:
            with open(file, "w", encoding="utf-8") as stream:
                stream.write(text)
        except OSError as exc:
            raise CommandError(f"{file}: cannot write it ({exc.strerror or exc}).") from None
        count = len(document["policies"])
        self.stdout.write(f"Exported {count} {'policy' if count == 1 else 'policies'} to {file}.")
