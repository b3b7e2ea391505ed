"""How policy lists are stored: normalized, so that entries that mean the same are written the same.

Origins as the engine serializes them (lower-case scheme and host, no default port), methods upper-cased
where Fetch upper-cases them, header names by their first spelling; duplicates dropped, order kept. Entries
that do not parse are left as typed, for the validators to refuse with a message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..engine import NORMALIZED_METHODS, OriginError, parse_origin_entry

__all__ = ["normalize_header_names", "normalize_methods", "normalize_origins", "normalize_strings"]


def _dedupe(items: Iterable[str], key: Any = None) -> list[str]:
    """``items`` without repeats (by ``key``), the first of each kept in place."""
    seen: set[str] = set()
    result = []
    for item in items:
        k = key(item) if key else item
        if k not in seen:
            seen.add(k)
            result.append(item)
    return result


def normalize_origins(value: list[str]) -> list[str]:
    """Lower-case scheme and host, drop default ports and duplicates; leave invalid entries as typed."""
    normalized = []
    for entry in value:
        try:
            normalized.append(parse_origin_entry(entry).value)
        except (OriginError, TypeError):
            normalized.append(entry)
    return _dedupe(normalized)


def normalize_methods(value: list[str]) -> list[str]:
    """Fetch upper-cases DELETE, GET, HEAD, OPTIONS, POST and PUT before sending; other methods stay as typed."""
    result = []
    for method in value:
        text = method.strip() if isinstance(method, str) else method
        if isinstance(text, str) and text.upper() in NORMALIZED_METHODS:
            text = text.upper()
        result.append(text)
    return _dedupe(result)


def normalize_header_names(value: list[str]) -> list[str]:
    """Header names compare case-insensitively: keep the first spelling of each."""
    stripped = [item.strip() if isinstance(item, str) else item for item in value]
    return _dedupe(stripped, key=lambda item: item.lower() if isinstance(item, str) else item)


def normalize_strings(value: list[str]) -> list[str]:
    """Strip surrounding spaces and drop duplicates (origin regexes: two spellings of a regex stay two)."""
    return _dedupe(item.strip() if isinstance(item, str) else item for item in value)
