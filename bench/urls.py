"""The benchmark's one trivial view."""

from django.http import HttpRequest, HttpResponse
from django.urls import path


def item(request: HttpRequest, n: str = "") -> HttpResponse:
    return HttpResponse(b'{"id": 1}', content_type="application/json")


urlpatterns = [path("bench/item", item), path("tenant<str:n>/item", item)]
