"""A small URLconf whose views count their calls, so tests can prove a preflight never reaches a view."""

from __future__ import annotations

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


def boom(request: HttpRequest) -> HttpResponse:
    calls.append(f"{request.method} {request.path}")
    raise RuntimeError("view failed")


urlpatterns = [
    path("t/echo", echo),
    path("t/vary", with_vary),
    path("t/boom", boom),
    path("other", echo),
]
