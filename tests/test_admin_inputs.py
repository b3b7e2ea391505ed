"""No input to the admin's pages is a 500: numbers and searches of any length."""

from __future__ import annotations

import pytest
from django.test import Client

from cors_policies.text import MAX_SEARCH_LENGTH, MAX_SEARCH_TERMS
from tests.factories import CorsPolicyFactory
from tests.helpers import shown_messages

pytestmark = pytest.mark.django_db

POLICIES = "/admin/cors_policies/corspolicy/"
OBSERVED = "/admin/cors_policies/observedorigin/"
HUGE = "9" * 5000


@pytest.mark.parametrize("url", [POLICIES, OBSERVED])
def test_a_search_of_thousands_of_words_uses_the_first_ones_and_says_so(admin_client: Client, url: str) -> None:
    CorsPolicyFactory(name="alpha beta", path_pattern="/alpha/**")
    words = " ".join(["alpha"] * MAX_SEARCH_TERMS + [f"w{index}" for index in range(3000)])
    response = admin_client.get(url, {"q": words})
    assert response.status_code == 200
    (message,) = shown_messages(response)
    assert message == (
        "warning",
        f"Searched for '{'alpha ' * 10}'… only: a search may have "
        f"{MAX_SEARCH_TERMS} words and {MAX_SEARCH_LENGTH} characters (every word must match, so a few well-chosen "
        "words find as much).",
    )
    if url == POLICIES:
        assert [policy.name for policy in response.context["cl"].result_list] == ["alpha beta"]


@pytest.mark.parametrize("url", [POLICIES, OBSERVED])
def test_a_long_search_word_is_shortened(admin_client: Client, url: str) -> None:
    response = admin_client.get(url, {"q": "x" * 100_000})
    assert response.status_code == 200
    assert len(shown_messages(response)) == 1


@pytest.mark.parametrize(
    "url",
    [
        f"{POLICIES}?p={HUGE}",
        f"{POLICIES}?o={HUGE}",
        f"{POLICIES}{HUGE}/change/",
        f"{OBSERVED}?p={HUGE}",
        f"{OBSERVED}?policy__id__exact={HUGE}",
        f"{POLICIES}test/?origin=https://a.example.com&method=GET&path=/{HUGE}",
    ],
)
def test_numbers_of_any_length_are_not_a_500(admin_client: Client, url: str) -> None:
    CorsPolicyFactory()
    response = admin_client.get(url)
    assert response.status_code in (200, 302)
