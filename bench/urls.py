"""The benchmark's one trivial view."""

from django.http import HttpRequest, HttpResponse
from django.urls import path


def item(request: HttpRequest, n: str = "") -> HttpResponse:
    return HttpResponse(b'{"id": 1}', content_type="application/json")


urlpatterns = [path("bench/item", item), path("tenant<str:n>/item", item)]


class NoopMiddleware:
    """The cost of any middleware at all: Django's wrapper and one call."""

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request):  # type: ignore[no-untyped-def]
        return self.get_response(request)
