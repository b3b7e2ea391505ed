"""The admin's policy list scales: a page costs the same queries at any number of policies, and is cut from
the engine's precedence order (bench/pages.py measures the time)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from cors_policies.cache import snapshot
from cors_policies.engine import PolicySet, PolicySpec
from cors_policies.models import SPEC_FIELDS, CorsPolicy
from tests.helpers import row_names

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/cors_policies/corspolicy/"


#: Regex path policies share one automaton with a budget (engine.MAX_REGEX_PATH_PROGRAM): the first few
#: kind-2 policies are regexes, the rest globs, so every row is served and the engine's order is the reference.
REGEXES = 3


def add(count: int, start: int = 0) -> None:
    kinds = ["/api/{n}/**", "/p/{n}", "^/r{n}/", "/s/{n}/*/x", "/**"]

    def pattern(n: int) -> str:
        kind = kinds[n % 5] if n % 5 != 2 or n < 5 * REGEXES else "/g/{n}/*"
        return kind.format(n=n)

    CorsPolicy.objects.bulk_create(
        CorsPolicy(
            name=f"p{n:04}",
            path_pattern=pattern(n),
            priority=n % 3,
            enabled=n % 7 != 0,
            report_only=n % 11 == 0,
            allowed_origins=[f"https://a{n}.example.com"],
        )
        for n in range(start, start + count)
    )


def engine_order() -> list[str]:
    """The reference: the engine's own order over every row (enforced, then report-only; what does not
    compile last), as the list showed it before it was computed without compiling."""
    rows = list(CorsPolicy.objects.values(*SPEC_FIELDS, "enabled"))
    policy_set = PolicySet.build(PolicySpec(**{name: row[name] for name in SPEC_FIELDS}) for row in rows)
    reports = policy_set.report_only.policies if policy_set.report_only is not None else ()
    return [policy.name for policy in (*policy_set.policies, *reports)]


@pytest.mark.parametrize("query", [{}, {"o": "2"}, {"p": "2"}, {"q": "p00"}, {"o": "-1"}])
def test_a_page_costs_the_same_queries_at_any_size(
    admin_client: Client, clock: Any, django_assert_num_queries: Callable[..., Any], query: dict[str, str]
) -> None:
    add(30)
    admin_client.get(LIST_URL, query)  # loads the served set once (the clock stands still from here on)
    # The session, the user, the matching rows' four columns (or the page, sorted by the database), the page's
    # rows, the full count.
    with django_assert_num_queries(5):
        assert admin_client.get(LIST_URL, query).status_code == 200
    add(400, start=30)
    snapshot.reset()
    admin_client.get(LIST_URL, query)
    with django_assert_num_queries(5):
        assert admin_client.get(LIST_URL, query).status_code == 200


def test_pages_follow_the_engines_order(admin_client: Client) -> None:
    add(250)
    expected = engine_order()
    shown = [
        name for page in ("1", "2", "3") for name in row_names(admin_client.get(LIST_URL, {"p": page}).content.decode())
    ]
    assert shown == expected
    descending = [
        name
        for page in ("1", "2", "3")
        for name in row_names(admin_client.get(LIST_URL, {"o": "-1", "p": page}).content.decode())
    ]
    assert descending == expected[::-1]


def test_a_search_keeps_the_order(admin_client: Client) -> None:
    add(60)
    expected = [name for name in engine_order() if name.startswith("p001")]
    assert row_names(admin_client.get(LIST_URL, {"q": "p001"}).content.decode()) == expected


def test_show_all_lists_every_row_in_order(admin_client: Client) -> None:
    add(150)
    assert row_names(admin_client.get(LIST_URL, {"all": ""}).content.decode()) == engine_order()


def test_a_page_past_the_last_is_djangos_error_page(admin_client: Client) -> None:
    add(150)
    response = admin_client.get(LIST_URL, {"p": "9"})
    assert (response.status_code, response["Location"]) == (302, f"{LIST_URL}?e=1")
