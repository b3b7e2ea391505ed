"""The CORS playground: a front-end page that calls the demo's API on the *other* origin with ``fetch()``.

The demo server answers as ``http://127.0.0.1:PORT`` and as ``http://localhost:PORT``, which browsers treat
as two origins. Opened on one, the playground sends the request you describe to the other, shows what the
browser did (the response it let the page read, or the ``TypeError``), and beside it what the server says
about the same request: the API's evaluate endpoint (same engine and policies as the middleware), and which requests
reached the server, preflights included (from ``testproject.middleware``).

The page itself needs no login; the server's explanation needs the ``view`` permission on CORS policies,
through the admin's session on the page's own host (the page links to the login).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from .middleware import origin_log

#: Ready-made requests against the demo's endpoints and policies (``demo_setup``), each showing one rule.
#: ``note`` says what to expect and why; the page fills the form from a preset and the user presses Send.
PRESETS: list[dict[str, Any]] = [
    {
        "label": "Simple GET from any origin",
        "method": "GET",
        "path": "/api/public/items/",
        "headers": "",
        "credentials": "same-origin",
        "body": "",
        "note": "Allowed: public-api allows any origin (*). No preflight (GET without custom headers), and the "
        "page can read X-Total-Count because the policy exposes it.",
    },
    {
        "label": "PUT with a JSON body (preflighted)",
        "method": "PUT",
        "path": "/api/public/items/1/",
        "headers": "Content-Type: application/json",
        "credentials": "same-origin",
        "body": '{"name": "Big teapot", "price": "20.00"}',
        "note": "Allowed: PUT and Content-Type: application/json need a preflight, and public-api lists both. "
        "Send it twice: the second time no preflight reaches the server (Max-Age 600).",
    },
    {
        "label": "A header the policy does not list",
        "method": "PUT",
        "path": "/api/public/items/1/",
        "headers": "Content-Type: application/json\nX-Custom: 1",
        "credentials": "same-origin",
        "body": '{"name": "Big teapot"}',
        "note": "Refused: public-api allows Content-Type and X-Requested-With, not X-Custom, so the preflight "
        "fails and the PUT is never sent.",
    },
    {
        "label": "A method the policy does not list",
        "method": "DELETE",
        "path": "/health",
        "headers": "",
        "credentials": "same-origin",
        "body": "",
        "note": "Refused: health allows GET only.",
    },
    {
        "label": "Methods are case-sensitive",
        "method": "patch",
        "path": "/api/public/items/1/",
        "headers": "Content-Type: application/json",
        "credentials": "same-origin",
        "body": '{"price": "19.00"}',
        "note": "Refused: fetch() upper-cases only DELETE, GET, HEAD, OPTIONS, POST and PUT, so the browser asks "
        "for 'patch', and public-api allows PATCH.",
    },
    {
        "label": "Any header under allowed headers *",
        "method": "PATCH",
        "path": "/api/echo/anything",
        "headers": "X-Anything: yes\nContent-Type: application/json",
        "credentials": "same-origin",
        "body": '{"hello": "world"}',
        "note": "Allowed: echo allows any header (*) from localhost and 127.0.0.1 on any port. The answer shows "
        "what the server received.",
    },
    {
        "label": "Authorization under allowed headers *",
        "method": "GET",
        "path": "/api/echo/anything",
        "headers": "Authorization: Bearer demo-token",
        "credentials": "same-origin",
        "body": "",
        "note": "Refused: * never covers Authorization (the Fetch standard's rule, which this app applies in "
        "every browser, Chromium included).",
    },
    {
        "label": "Authorization listed explicitly",
        "method": "GET",
        "path": "/api/echo/auth/anything",
        "headers": "Authorization: Bearer demo-token",
        "credentials": "same-origin",
        "body": "",
        "note": "Allowed: echo-auth (/api/echo/auth/**, more literal segments than echo's /api/echo/**, so it "
        "wins) lists Authorization.",
    },
    {
        "label": "Cookies to a * policy",
        "method": "GET",
        "path": "/api/public/items/",
        "headers": "",
        "credentials": "include",
        "body": "",
        "note": "Refused: with credentials the browser needs the exact origin and "
        "Access-Control-Allow-Credentials: true; public-api answers Access-Control-Allow-Origin: *.",
    },
    {
        "label": "Cookies with a credentials policy",
        "method": "GET",
        "path": "/api/profile/",
        "headers": "",
        "credentials": "include",
        "body": "",
        "note": "Allowed from {localhost} only (profile lists it, with credentials); refused from "
        "anywhere else. localhost and 127.0.0.1 are different sites, so the browser does not send the "
        "session cookie (SameSite=Lax) and the page reads a 401: CORS decides what the page may read, "
        "cookies are another matter.",
    },
    {
        "label": "Detailed resource timing (Timing-Allow-Origin)",
        "method": "GET",
        "path": "/api/echo/timing",
        "headers": "",
        "credentials": "same-origin",
        "body": "",
        "note": "Allowed, with Timing-Allow-Origin: the page's origin (echo has timing_allow_origin on), so the "
        "browser's resource timing of this cross-origin call has its detailed phases (DevTools > Network > Timing, "
        "or performance.getEntriesByType('resource')); without it they read 0.",
    },
    {
        "label": "A CSRF-checked write (CSRF-trusted policy)",
        "method": "POST",
        "path": "/api/orders/",
        "headers": "Content-Type: application/x-www-form-urlencoded\nX-CSRFToken: token-from-/api/orders/csrf/",
        "credentials": "include",
        "body": "item=teapot",
        "note": "Refused here: orders trusts only http://localhost:3000 and http://127.0.0.1:3000, for CORS and for "
        "Django's CSRF check (csrf_trusted), so the preflight fails, and the server's explanation says "
        "csrf_trusted: false. A front end on port 3000 gets the token from /api/orders/csrf/ and posts with it: "
        "no CSRF_TRUSTED_ORIGINS needed, and turning csrf_trusted off in the admin refuses it at once.",
    },
    {
        "label": "Error responses are readable",
        "method": "GET",
        "path": "/api/public/error/",
        "headers": "",
        "credentials": "same-origin",
        "body": "",
        "note": "Allowed: the middleware adds CORS headers to error pages too, so the page can read the 500 "
        "(and a 404, such as /api/public/items/99/).",
    },
    {
        "label": "A path no policy covers",
        "method": "GET",
        "path": "/playground/",
        "headers": "",
        "credentials": "same-origin",
        "body": "",
        "note": "Refused: no policy covers /playground/, so the middleware adds nothing and the browser refuses "
        "the cross-origin read.",
    },
]

#: The other name of the demo server: the page sends its requests there, a different origin.
OTHER_HOST = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}


def _host_and_port(request: HttpRequest) -> tuple[str, str]:
    host, port = request.get_host(), ""
    if not host.endswith("]") and ":" in host:  # "[::1]" has colons but no port
        host, _, port = host.rpartition(":")
    return host, port


def default_target(request: HttpRequest) -> str:
    """``http://localhost:PORT`` for a page on ``127.0.0.1:PORT`` and the reverse; else the page's own origin."""
    host, port = _host_and_port(request)
    other = OTHER_HOST.get(host, host)
    return f"{request.scheme}://{other}{':' + port if port else ''}"


def presets_for(request: HttpRequest) -> list[dict[str, Any]]:
    """The presets, their notes naming the origin the demo's own policies list on this server's port."""
    port = _host_and_port(request)[1]
    localhost = f"http://localhost{':' + port if port else ''}"
    return [{**preset, "note": preset["note"].replace("{localhost}", localhost)} for preset in PRESETS]


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


@require_GET
def page(request: HttpRequest) -> HttpResponse:
    """The playground. ``?target=`` sets the origin it calls (by default the server's other name)."""
    evaluate_url = _url("cors_policies_api:evaluate")
    login_url = reverse("admin:login") + "?next=" + reverse("cors-playground")
    presets = presets_for(request)
    config = {
        "target": request.GET.get("target", "").strip() or default_target(request),
        "evaluateUrl": evaluate_url,
        "logUrl": reverse("cors-playground-log"),
        "loginUrl": login_url,
        "csrfToken": get_token(request),
        "presets": presets,
    }
    return render(request, "demo/playground.html", {"config": config, "presets": presets, "login_url": login_url})


@require_GET
def log(request: HttpRequest) -> JsonResponse:
    """The requests with an Origin this process recorded after ``?after=ID`` (all kept ones without it),
    and the newest id, for the next ``?after=``."""
    raw = request.GET.get("after", "0")
    if not raw.isascii() or not raw.isdigit():
        return JsonResponse({"error": "Write ?after= as a whole number, such as ?after=0."}, status=400)
    last_id, entries = origin_log.since(int(raw))
    return JsonResponse({"last_id": last_id, "requests": [entry.as_dict() for entry in entries]})
