"""``manage.py cors_apply FILE [--dry-run] [--prune]``: make the policies what a document says.

The same code as the REST API's import (:func:`cors_policies.sync.apply`): everything is validated
before anything is written, the writes are one transaction and one version bump, and applying the
same file again changes nothing.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import sync
from ...services.documents import DocumentError
from ..output import diff_lines, document_error_lines, summary


class Command(BaseCommand):
    help = (
        "Create or update each policy of FILE (a document such as cors_export writes) by name, in one "
        "transaction, and print what changed. A field a policy leaves out takes its default. '-' reads "
        "standard input."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help='The document: {"policies": [...]}.')
        parser.add_argument("--dry-run", action="store_true", help="Print what would change; write nothing.")
        parser.add_argument("--prune", action="store_true", help="Also delete the policies FILE does not name.")

    def handle(self, *args: Any, file: str, dry_run: bool = False, prune: bool = False, **options: Any) -> None:
        document = read_document(file)
        try:
            result = sync.apply(document, prune=prune, dry_run=dry_run)
        except DocumentError as exc:
            lines = document_error_lines(exc.errors, document)
            raise CommandError(
                f"{file}: nothing was written, because of {len(lines)} "
                f"{'error' if len(lines) == 1 else 'errors'}:\n" + "\n".join(f"  {line}" for line in lines)
            ) from None
        for line in diff_lines(result):
            self.stdout.write(line)
        self.stdout.write(summary(result))


def read_document(file: str) -> Any:
    """The JSON in ``file`` (``-``: standard input), or a CommandError saying what is wrong with it."""
    try:
        if file == "-":
            text = sys.stdin.read()
        else:
            with open(file, encoding="utf-8") as stream:
                text = stream.read()
    except FileNotFoundError:
        raise CommandError(f"{file}: no such file; give the path of a document written by cors_export.") from None
    except IsADirectoryError:
        raise CommandError(f"{file}: is a directory; give the path of a document written by cors_export.") from None
    except UnicodeDecodeError:
        raise CommandError(f"{file}: is not UTF-8 text; a document is JSON, written by cors_export.") from None
    except OSError as exc:
        raise CommandError(f"{file}: cannot read it ({exc.strerror or exc}).") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"{file}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            'a document looks like {"policies": [{"name": "api", "path_pattern": "/api/**"}]}.'
        ) from None
