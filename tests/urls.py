"""A small URLconf whose views count their calls, so tests can prove a preflight never reaches a view."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

calls: list[str] = []


def echo(request: HttpRequest) -> HttpResponse:
    calls.append(f"{request.method} {request.path}")
    return JsonResponse({"method": request.method})


def with_vary(request: HttpRequest) -> HttpResponse:
    calls.append(f"{request.method} {request.path}")
    response = JsonResponse({"ok": True})
    response["Vary"] = "Cookie"
    return response


#: What a careless view (or django-cors-headers left in MIDDLEWARE) sets: the request's own Origin, with credentials.
LEAKED = {
    "Access-Control-Allow-Credentials": "true",
    "Access-Control-Allow-Methods": "*",
    "Access-Control-Allow-Headers": "*",
    "Access-Control-Expose-Headers": "Set-Cookie, X-Secret",
    "Access-Control-Max-Age": "86400",
    "Access-Control-Allow-Private-Network": "true",
}


def leak(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    response["access-control-allow-origin"] = request.headers.get(
        "Origin", "*"
    )  # any case: headers are case-insensitive
    for name, value in LEAKED.items():
        response[name] = value
    return response


def leaky(request: HttpRequest) -> HttpResponse:
    calls.append(f"{request.method} {request.path}")
    return leak(request, JsonResponse({"secret": True}))


class LeakyMiddleware:
    """An inner middleware that sets CORS headers on every response."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return leak(request, self.get_response(request))


def boom(request: HttpRequest) -> HttpResponse:
    calls.append(f"{request.method} {request.path}")
    raise RuntimeError("view failed")


urlpatterns = [
    path("t/echo", echo),
    path("t/vary", with_vary),
    path("t/boom", boom),
    path("t/leaky", leaky),
    path("other/leaky", leaky),
    path("other", echo),
]
