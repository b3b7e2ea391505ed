"""What the commands print: shared by cors_import_settings, cors_apply and cors_explain, so a policy, a
diff and an error read the same whichever command shows them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..services.documents import Result


def as_json(value: Any) -> str:
    """A value as it appears in an export document (one line)."""
    return json.dumps(value, ensure_ascii=False)


def messages(errors: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """Flatten DRF-shaped errors (dicts of lists of messages, nested) into (key path, message) pairs."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from messages(value, (*path, str(key)))
    elif isinstance(errors, (list, tuple)):
        for item in errors:
            yield from messages(item, path)
    else:
        yield path, str(errors)


def document_error_lines(errors: dict[str, Any], document: Any) -> list[str]:
    """One line per problem of a document: ``policy 2 ('partners'): allowed_origins: <message>``."""
    lines = []
    policies = document.get("policies") if isinstance(document, dict) else None
    for path, message in messages(errors):
        if len(path) >= 2 and path[0] == "policies" and path[1].isdigit():
            index = int(path[1])
            item = policies[index] if isinstance(policies, list) and index < len(policies) else None
            name = item.get("name") if isinstance(item, dict) else None
            where = f"policy {index}" + (f" ({name!r})" if isinstance(name, str) else "")
            fields = [part for part in path[2:] if part != "non_field_errors"]
            lines.append(": ".join([where, *fields, message]))
        elif path and path[0] != "non_field_errors":
            lines.append(f"{'.'.join(path)}: {message}")
        else:
            lines.append(message)
    return lines


def diff_lines(result: Result) -> list[str]:
    """The changes, one line per policy: ``+`` created, ``~`` updated (each field old → new), ``-`` deleted."""
    diff = result.diff
    lines = [f"+ {name}" for name in diff["created"]]
    for name, fields in diff["updated"].items():
        lines.append(f"~ {name}")
        for field in fields:
            old, new = result.changes[name][field]
            lines.append(f"    {field}: {as_json(old)} -> {as_json(new)}")
    lines.extend(f"- {name}" for name in diff["deleted"])
    return lines


def summary(result: Result) -> str:
    diff = result.diff
    counts = (
        f"{len(diff['created'])} created, {len(diff['updated'])} updated, {len(diff['deleted'])} deleted, "
        f"{len(diff['unchanged'])} unchanged"
    )
    if diff["dry_run"]:
        return f"Dry run, nothing written: {counts}."
    return f"Applied: {counts}."
