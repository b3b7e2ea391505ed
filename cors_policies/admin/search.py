"""The search boxes of the admin's lists: bounded, with a message when words were left out."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest
from django.utils.text import smart_split

from ..text import MAX_SEARCH_LENGTH, MAX_SEARCH_TERMS


def limit_search(request: HttpRequest, search_term: str) -> str:
    """The first MAX_SEARCH_TERMS words of a search, within MAX_SEARCH_LENGTH characters (each word is one more
    condition in the query, and SQLite refuses a query of a few thousand, or a long LIKE pattern), with a
    message when something was left out."""
    words = list(smart_split(search_term))
    if len(words) <= MAX_SEARCH_TERMS and len(search_term) <= MAX_SEARCH_LENGTH:
        return search_term
    kept = " ".join(words[:MAX_SEARCH_TERMS])[:MAX_SEARCH_LENGTH]
    messages.warning(
        request,
        f"Searched for {kept[:60]!r}{'…' if len(kept) > 60 else ''} only: a search may have {MAX_SEARCH_TERMS} "
        f"words and {MAX_SEARCH_LENGTH} characters (every word must match, so a few well-chosen words find as much).",
    )
    return kept
