"""Plain Django views that the demo policies apply to: a public API, a credentialed profile, a health check,
an echo of what a page sent (for the playground) and an endpoint that always fails (error responses)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt, ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods

ITEMS: list[dict[str, Any]] = [
    {"id": 1, "name": "Teapot", "price": "18.00"},
    {"id": 2, "name": "Cup", "price": "4.50"},
    {"id": 3, "name": "Saucer", "price": "3.00"},
]


def _find_item(item_id: int) -> dict[str, Any] | None:
    return next((item for item in ITEMS if item["id"] == item_id), None)


def _json_body(request: HttpRequest) -> tuple[dict[str, Any] | None, JsonResponse | None]:
    """The request's JSON object, or a 400 response saying why it could not be read."""
    try:
        body = json.loads(request.body or b"{}")
    except (UnicodeDecodeError, ValueError):
        return None, JsonResponse({"error": "The body is not valid JSON."}, status=400)
    if not isinstance(body, dict):
        return None, JsonResponse({"error": "The body must be a JSON object."}, status=400)
    return body, None


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    links = [
        ("Admin (demo login admin / admin)", reverse("admin:index")),
        ("GET /api/public/items/", reverse("item-list")),
        ("GET|PUT|PATCH|DELETE /api/public/items/1/", reverse("item-detail", args=[1])),
        ("GET /api/profile/ (session login)", reverse("profile")),
        ("GET /health", reverse("health")),
        ("Any method /api/echo/... (what the page sent)", reverse("echo")),
        ("GET /api/public/error/ (always a 500)", reverse("error")),
        ("The CORS playground", reverse("cors-playground")),
    ]
    items = format_html_join("\n", '<li><a href="{}">{}</a></li>', ((url, label) for label, url in links))
    page = format_html(
        "<!doctype html><html><head><meta charset='utf-8'><title>cors-policies demo</title></head>"
        "<body><h1>cors-policies demo</h1><p>CORS policies for these endpoints are edited live in the admin."
        "</p><ul>{}</ul></body></html>",
        items,
    )
    return HttpResponse(page)


@require_GET
def item_list(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(ITEMS, safe=False)
    response["X-Total-Count"] = str(len(ITEMS))
    return response


@csrf_exempt
@require_http_methods(["GET", "PUT", "PATCH", "DELETE"])
def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _find_item(item_id)
    if item is None:
        return JsonResponse({"error": f"No item {item_id}."}, status=404)
    if request.method == "GET":
        return JsonResponse(item)
    if request.method == "DELETE":
        # The demo's data is fixed: say what would have been deleted, keep it for the next visitor.
        return JsonResponse({"deleted": item_id})
    body, error = _json_body(request)
    if error is not None:
        return error
    return JsonResponse({"id": item_id, "method": request.method, "received": body})


@require_GET
def profile(request: HttpRequest) -> JsonResponse:
    user = request.user
    if not user.is_authenticated:
        return JsonResponse({"error": "Not logged in."}, status=401)
    return JsonResponse(
        {
            "username": user.get_username(),
            "email": getattr(user, "email", ""),
            "is_staff": bool(getattr(user, "is_staff", False)),
        }
    )


@require_GET
@ensure_csrf_cookie
def csrf_token(request: HttpRequest) -> JsonResponse:
    """The CSRF token, for pages on other origins (a CSRF-trusted policy covers the orders endpoint)."""
    return JsonResponse({"token": get_token(request)})


@require_http_methods(["POST"])
def orders(request: HttpRequest) -> JsonResponse:
    """A write that Django's CSRF check protects (not exempt): a page on a CSRF-trusted origin may post here."""
    return JsonResponse({"ok": True, "order": request.POST.get("item") or None}, status=200)


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


#: Request headers a browser sets by itself (``sec-*`` too): the echo leaves them out to show what the page set.
BROWSER_HEADERS = frozenset(
    {
        "host",
        "connection",
        "user-agent",
        "accept-encoding",
        "accept-language",
        "origin",
        "referer",
        "cookie",
        "content-length",
        "pragma",
        "cache-control",
        "priority",
    }
)
ECHO_BODY_LIMIT = 2000


@csrf_exempt
def echo(request: HttpRequest, rest: str = "") -> JsonResponse:
    """What the server received: method, path, Origin, the headers the page set, cookie names, the user and
    the body (its first 2000 characters). Any method, any path under /api/echo/."""
    headers = {
        name.lower(): value
        for name, value in request.headers.items()
        if name.lower() not in BROWSER_HEADERS
        and not name.lower().startswith("sec-")
        and not (name.lower() == "accept" and value == "*/*")
    }
    if not request.body and headers.get("content-type") == "text/plain":
        # Python's WSGI server (runserver, the test server) reports text/plain when no Content-Type came.
        del headers["content-type"]
    user = request.user
    response = JsonResponse(
        {
            "method": request.method,
            "path": request.path,
            "origin": request.headers.get("Origin"),
            "headers": headers,
            "cookies": sorted(request.COOKIES),
            "user": user.get_username() if user.is_authenticated else None,
            "body": request.body.decode("utf-8", "replace")[:ECHO_BODY_LIMIT],
        }
    )
    response["X-Request-Id"] = uuid.uuid4().hex
    return response


@require_GET
def error(request: HttpRequest) -> HttpResponse:
    """Always fails: an allowed origin must still be able to read the 500 (the CORS headers are added to it)."""
    raise RuntimeError("/api/public/error/ fails on purpose: the demo's example of a server error.")


#: The demo's icon: browsers ask every site for /favicon.ico, and a 404 there is noise in the server's log.
FAVICON = Path(__file__).resolve().parent / "demo" / "static" / "demo" / "favicon.ico"


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    """Served by a view rather than as a static file, so it answers under any server, DEBUG or not."""
    return HttpResponse(FAVICON.read_bytes(), content_type="image/x-icon")
