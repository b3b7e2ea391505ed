"""``manage.py cors_import_settings [--dry-run] [--name NAME]``: django-cors-headers' settings as one policy.

The translation is :mod:`cors_policies.corsheaders_settings` (pure), validated as a document
(:mod:`cors_policies.services.documents`); the write is :func:`cors_policies.sync.apply`
(the model's validators, update by name, one transaction), so running it again updates the same policy.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import sync
from ...corsheaders_settings import DEFAULT_NAME, SETTING_NAMES, SettingsError, Translation, UnsafeSettings, translate
from ...services import documents
from ..output import as_json, document_error_lines

MIDDLEWARE_SWAP = (
    "Next: in MIDDLEWARE, replace 'corsheaders.middleware.CorsMiddleware' with "
    "'cors_policies.middleware.CorsPolicyMiddleware' (first in the list), and remove 'corsheaders' from "
    "INSTALLED_APPS."
)


def signal_receivers() -> bool:
    """Whether django-cors-headers' check_request_enabled signal has receivers (if it is installed)."""
    try:  # django-cors-headers is optional: the project may have removed it already
        from corsheaders.signals import check_request_enabled
    except ImportError:
        return False
    return check_request_enabled.has_listeners()


class Command(BaseCommand):
    help = (
        "Create, or update by name, one policy equivalent to the django-cors-headers settings (current and old "
        "names, their defaults included). Refuses any origin with credentials, which django-cors-headers allows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default=DEFAULT_NAME, help=f"The policy's name (default: {DEFAULT_NAME}).")
        parser.add_argument("--dry-run", action="store_true", help="Print the policy; write nothing.")

    def handle(self, *args: Any, name: str = DEFAULT_NAME, dry_run: bool = False, **options: Any) -> None:
        values = {setting: getattr(settings, setting) for setting in SETTING_NAMES if hasattr(settings, setting)}
        try:
            translation = translate(values, name=name, signal_receivers=signal_receivers())
        except UnsafeSettings as exc:
            suggestion = json.dumps({"policies": [exc.suggestion]}, indent=2, ensure_ascii=False)
            raise CommandError(
                f"{exc}\n{suggestion}\nSave it as a file and run manage.py cors_apply FILE to create it."
            ) from None
        except SettingsError as exc:
            raise CommandError(str(exc)) from None
        document = {"policies": [translation.policy]}
        try:
            [policy] = documents.validate_document(document)
            result = sync.apply(document, dry_run=dry_run)
        except documents.DocumentError as exc:
            lines = [self.blame(line, translation) for line in document_error_lines(exc.errors, document)]
            raise CommandError(
                "The django-cors-headers settings do not make a valid policy; nothing was written:\n"
                + "\n".join(f"  {line}" for line in lines)
            ) from None

        self.stdout.write(f"Policy {name!r}, from the django-cors-headers settings:")
        for field in translation.policy:  # as stored (normalized); a field the settings cannot set keeps its default
            value = policy[field]
            source = translation.sources.get(field)
            self.stdout.write(f"  {field} = {as_json(value)}" + (f"  # {source}" if source else ""))
        if translation.notes:
            self.stdout.write("Notes:")
            for note in translation.notes:
                self.stdout.write(f"  - {note}")
        diff = result.diff
        if diff["created"]:
            outcome = f"{'Would create' if dry_run else 'Created'} policy {name!r}."
        elif diff["updated"]:
            fields = ", ".join(diff["updated"][name])
            outcome = f"{'Would update' if dry_run else 'Updated'} policy {name!r}: {fields}."
        else:
            outcome = f"Policy {name!r} is already up to date."
        if dry_run:
            outcome += " Dry run: nothing written."
        self.stdout.write(outcome)
        if not dry_run:
            self.stdout.write(MIDDLEWARE_SWAP)

    @staticmethod
    def blame(line: str, translation: Translation) -> str:
        """Name the setting a field came from: 'policy 0 ('x'): allowed_origins: msg' → 'CORS_ALLOWED_ORIGINS: msg'."""
        _, _, rest = line.partition(": ")
        field, _, message = rest.partition(": ")
        if field == "name":
            return f"--name: {message}"
        source = translation.sources.get(field)
        return f"{source.split(' ')[0]}: {message}" if source else rest
