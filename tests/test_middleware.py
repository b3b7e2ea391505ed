"""The middleware over the real Django stack: exact headers and statuses, sync and async."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client
from django.test.utils import override_settings

from cors_policies.engine import RequestInfo
from cors_policies.middleware import request_info
from cors_policies.models import CorsPolicy
from cors_policies.services import evaluate as evaluation
from tests import urls
from tests.helpers import preflight

pytestmark = [pytest.mark.urls("tests.urls"), pytest.mark.django_db]

APP = "https://app.example.com"
CORS_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Expose-Headers",
    "Access-Control-Max-Age",
    "Access-Control-Allow-Private-Network",
)


def cors(response: Any) -> dict[str, str]:
    """The CORS headers of a response, and its Vary."""
    found = {name: response[name] for name in CORS_HEADERS if response.has_header(name)}
    if response.has_header("Vary"):
        found["Vary"] = response["Vary"]
    return found


@pytest.fixture
def api_policy(make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
    return make_policy(
        name="api",
        path_pattern="/t/**",
        allowed_origins=[APP, "https://*.example.org"],
        allowed_methods=["GET", "PUT", "DELETE"],
        allowed_headers=["X-Token", "Content-Type"],
        expose_headers=["X-Total"],
        allow_credentials=True,
        max_age=600,
    )


class TestActualRequests:
    def test_allowed_origin_gets_exact_headers(self, client: Client, api_policy: CorsPolicy) -> None:
        response = client.get("/t/echo", HTTP_ORIGIN=APP)
        assert response.status_code == 200
        assert cors(response) == {
            "Access-Control-Allow-Origin": APP,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Expose-Headers": "X-Total",
            "Vary": "Origin",
        }
        assert urls.calls == ["GET /t/echo"]

    def test_subdomain_wildcard_echoes_the_request_origin(self, client: Client, api_policy: CorsPolicy) -> None:
        response = client.get("/t/echo", HTTP_ORIGIN="https://a.b.example.org")
        assert response["Access-Control-Allow-Origin"] == "https://a.b.example.org"

    @pytest.mark.parametrize(
        "origin",
        [
            "https://app.example.com.evil.net",
            "https://evilexample.com",
            "https://example.org",
            "https://evilexample.org",
            "http://app.example.com",
            "https://app.example.com:8443",
            "https://app.example.com:443",
            "https://app.example.com/",
            "https://APP.example.com",
            "null",
            f"{APP}, https://evil.test",
            "",
        ],
    )
    def test_refused_origin_gets_no_cors_headers_but_vary(
        self, client: Client, api_policy: CorsPolicy, origin: str
    ) -> None:
        response = client.get("/t/echo", HTTP_ORIGIN=origin)
        assert response.status_code == 200
        assert cors(response) == {"Vary": "Origin"}

    def test_request_without_origin_gets_vary_only(self, client: Client, api_policy: CorsPolicy) -> None:
        response = client.get("/t/echo")
        assert cors(response) == {"Vary": "Origin"}

    @pytest.mark.parametrize(
        "origin",
        ["https://app.example.com\r\nSet-Cookie: a=b", "https://app.example.com\n", "https://a\x00.example.com"],
    )
    def test_control_characters_in_origin_are_never_echoed(
        self, client: Client, api_policy: CorsPolicy, origin: str
    ) -> None:
        response = client.get("/t/echo", HTTP_ORIGIN=origin)
        assert response.status_code == 200
        assert cors(response) == {"Vary": "Origin"}

    def test_huge_origin_is_refused_without_error(self, client: Client, api_policy: CorsPolicy) -> None:
        origin = "https://" + "a" * 10_000 + ".example.org"
        response = client.get("/t/echo", HTTP_ORIGIN=origin)
        assert response.status_code == 200
        assert cors(response) == {"Vary": "Origin"}

    def test_vary_is_merged_with_the_views_own(self, client: Client, api_policy: CorsPolicy) -> None:
        response = client.get("/t/vary", HTTP_ORIGIN=APP)
        assert response["Vary"] == "Cookie, Origin"

    def test_not_found_from_allowed_origin_is_decorated(self, client: Client, api_policy: CorsPolicy) -> None:
        response = client.get("/t/nowhere", HTTP_ORIGIN=APP)
        assert response.status_code == 404
        assert response["Access-Control-Allow-Origin"] == APP
        assert response["Vary"] == "Origin"

    def test_server_error_from_allowed_origin_is_decorated(self, api_policy: CorsPolicy) -> None:
        client = Client(raise_request_exception=False)
        response = client.get("/t/boom", HTTP_ORIGIN=APP)
        assert response.status_code == 500
        assert response["Access-Control-Allow-Origin"] == APP
        assert response["Access-Control-Allow-Credentials"] == "true"

    def test_actual_request_is_judged_by_origin_not_method(self, client: Client, api_policy: CorsPolicy) -> None:
        # The browser vetted the method in the preflight; the real response needs only the origin.
        response = client.patch("/t/echo", HTTP_ORIGIN=APP)
        assert response["Access-Control-Allow-Origin"] == APP
        assert urls.calls == ["PATCH /t/echo"]

    def test_plain_options_is_not_a_preflight_and_reaches_the_view(
        self, client: Client, api_policy: CorsPolicy
    ) -> None:
        response = client.options("/t/echo", HTTP_ORIGIN=APP)
        assert response.status_code == 200
        assert response.json() == {"method": "OPTIONS"}
        assert response["Access-Control-Allow-Origin"] == APP
        assert urls.calls == ["OPTIONS /t/echo"]

    def test_uncovered_path_is_untouched(self, client: Client, api_policy: CorsPolicy) -> None:
        response = client.get("/other", HTTP_ORIGIN=APP)
        assert cors(response) == {}

    def test_any_origin_policy_answers_star_without_vary(
        self, client: Client, make_policy: Callable[..., CorsPolicy]
    ) -> None:
        make_policy(path_pattern="/t/echo", allowed_origins=["*"], expose_headers=["X-Total"])
        for origin in ({"HTTP_ORIGIN": "https://anyone.test"}, {"HTTP_ORIGIN": "null"}, {}):
            response = client.get("/t/echo", **origin)
            assert cors(response) == {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "X-Total"}

    def test_null_origin_is_allowed_only_when_listed(
        self, client: Client, make_policy: Callable[..., CorsPolicy]
    ) -> None:
        make_policy(path_pattern="/t/echo", allowed_origins=["null"])
        assert client.get("/t/echo", HTTP_ORIGIN="null")["Access-Control-Allow-Origin"] == "null"


class TestPreflight:
    def test_allowed_preflight_is_answered_without_the_view(self, client: Client, api_policy: CorsPolicy) -> None:
        response = preflight(client, "/t/echo", HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-token,content-type")
        assert response.status_code == 200
        assert response.content == b""
        assert response["Content-Length"] == "0"
        assert cors(response) == {
            "Access-Control-Allow-Origin": APP,
            "Access-Control-Allow-Methods": "GET, PUT, DELETE",
            "Access-Control-Allow-Headers": "X-Token, Content-Type",
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        }
        assert urls.calls == []

    def test_preflight_for_a_path_with_no_view_is_still_answered(self, client: Client, api_policy: CorsPolicy) -> None:
        response = preflight(client, "/t/no/such/view")
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == APP

    @pytest.mark.parametrize(
        ("origin", "method", "headers"),
        [
            ("https://evil.test", "PUT", ""),
            (APP, "PATCH", ""),
            (APP, "put", ""),
            (APP, "PUT", "x-token,authorization"),
            (APP, "PUT", "x-token;evil"),
            (APP, "PU T", ""),
        ],
        ids=["origin", "method", "method-case", "header", "malformed-headers", "malformed-method"],
    )
    def test_refused_preflight_is_ok_without_cors_headers(
        self, client: Client, api_policy: CorsPolicy, origin: str, method: str, headers: str
    ) -> None:
        extra = {"HTTP_ACCESS_CONTROL_REQUEST_HEADERS": headers} if headers else {}
        response = preflight(client, "/t/echo", origin=origin, method=method, **extra)
        assert response.status_code == 200
        assert response.content == b""
        assert cors(response) == {"Vary": "Origin"}
        assert urls.calls == []

    def test_preflight_on_an_uncovered_path_reaches_the_view(self, client: Client, api_policy: CorsPolicy) -> None:
        response = preflight(client, "/other")
        assert response.json() == {"method": "OPTIONS"}
        assert cors(response) == {}
        assert urls.calls == ["OPTIONS /other"]

    def test_preflight_status_is_configurable(self, client: Client, api_policy: CorsPolicy, settings: Any) -> None:
        settings.CORS_POLICIES = {"PREFLIGHT_STATUS": 204}
        response = preflight(client, "/t/echo")
        assert response.status_code == 204
        assert response["Access-Control-Allow-Origin"] == APP

    def test_private_network_is_answered_only_when_allowed(
        self, client: Client, make_policy: Callable[..., CorsPolicy]
    ) -> None:
        make_policy(path_pattern="/t/echo", allowed_origins=[APP], allowed_methods=["PUT"], allow_private_network=True)
        make_policy(path_pattern="/t/vary", allowed_origins=[APP], allowed_methods=["PUT"])
        pna = {"HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK": "true"}
        assert preflight(client, "/t/echo", **pna)["Access-Control-Allow-Private-Network"] == "true"
        assert not preflight(client, "/t/echo").has_header("Access-Control-Allow-Private-Network")
        assert cors(preflight(client, "/t/vary", **pna)) == {"Vary": "Origin"}

    def test_credentials_with_star_methods_and_headers_echo_the_request(
        self, client: Client, make_policy: Callable[..., CorsPolicy]
    ) -> None:
        make_policy(
            path_pattern="/t/echo",
            allowed_origins=[APP],
            allowed_methods=["*"],
            allowed_headers=["*"],
            allow_credentials=True,
        )
        response = preflight(client, "/t/echo", method="PATCH", HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-a,X-B")
        assert cors(response) == {
            "Access-Control-Allow-Origin": APP,
            "Access-Control-Allow-Methods": "PATCH",
            "Access-Control-Allow-Headers": "x-a, x-b",
            "Access-Control-Allow-Credentials": "true",
            "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        }

    def test_star_headers_never_cover_authorization(
        self, client: Client, make_policy: Callable[..., CorsPolicy]
    ) -> None:
        make_policy(path_pattern="/t/echo", allowed_origins=["*"], allowed_methods=["*"], allowed_headers=["*"])
        refused = preflight(client, "/t/echo", HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization")
        assert cors(refused) == {}
        allowed = preflight(client, "/t/echo", HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-a")
        assert cors(allowed) == {
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "*",
            "Access-Control-Allow-Headers": "x-a",
            "Vary": "Access-Control-Request-Method, Access-Control-Request-Headers",
        }


class TestAsync:
    """The same middleware under ASGI: no database work on the event loop."""

    def test_async_allowed_and_refused(self, api_policy: CorsPolicy) -> None:
        client = AsyncClient()
        allowed = async_to_sync(client.get)("/t/echo", headers={"Origin": APP})
        refused = async_to_sync(client.get)("/t/echo", headers={"Origin": "https://evil.test"})
        assert cors(allowed) == {
            "Access-Control-Allow-Origin": APP,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Expose-Headers": "X-Total",
            "Vary": "Origin",
        }
        assert cors(refused) == {"Vary": "Origin"}

    def test_async_preflight_is_answered_without_the_view(self, api_policy: CorsPolicy) -> None:
        client = AsyncClient()
        response = async_to_sync(client.options)(
            "/t/echo", headers={"Origin": APP, "Access-Control-Request-Method": "DELETE"}
        )
        assert response.status_code == 200
        assert response["Access-Control-Allow-Methods"] == "GET, PUT, DELETE"
        assert urls.calls == []

    def test_async_uncovered_path_is_untouched(self, api_policy: CorsPolicy) -> None:
        response = async_to_sync(AsyncClient().get)("/other", headers={"Origin": APP})
        assert cors(response) == {}

    def test_snapshot_loads_off_the_event_loop(self, api_policy: CorsPolicy, monkeypatch: pytest.MonkeyPatch) -> None:
        from cors_policies.cache import Snapshot

        loaded_in_loop: list[bool] = []
        original = Snapshot.refresh

        def spy(self: Snapshot) -> None:
            try:
                asyncio.get_running_loop()
                loaded_in_loop.append(True)
            except RuntimeError:
                loaded_in_loop.append(False)
            original(self)

        monkeypatch.setattr(Snapshot, "refresh", spy)
        response = async_to_sync(AsyncClient().get)("/t/echo", headers={"Origin": APP})
        assert response["Access-Control-Allow-Origin"] == APP
        assert loaded_in_loop == [False]


@pytest.mark.parametrize(
    ("origin", "meta", "expected"),
    [
        ("http://testserver", {"HTTP_HOST": "testserver"}, True),
        ("http://testserver", {"HTTP_HOST": "testserver:80"}, True),
        ("https://testserver", {"HTTP_HOST": "testserver:443", "wsgi.url_scheme": "https"}, True),
        ("http://localhost:8000", {"HTTP_HOST": "localhost:8000"}, True),
        ("http://[::1]:8000", {"HTTP_HOST": "[::1]:8000"}, True),
        ("http://localhost", {"SERVER_NAME": "localhost", "SERVER_PORT": "80"}, True),
        ("https://testserver", {"HTTP_HOST": "testserver"}, False),  # another scheme
        ("http://testserver:8000", {"HTTP_HOST": "testserver"}, False),  # another port
        ("http://test", {"HTTP_HOST": "testserver"}, False),  # a prefix of the host is not the host
        ("http://testserver.evil.example", {"HTTP_HOST": "testserver"}, False),
        ("https://app.example.com", {"HTTP_HOST": "testserver"}, False),
        ("null", {"HTTP_HOST": "testserver"}, False),
        ("http://evil.invalid", {"HTTP_HOST": "evil.invalid"}, False),  # a Host Django refuses
    ],
)
def test_is_same_origin(origin: str, meta: dict[str, str], expected: bool) -> None:
    from django.test import RequestFactory

    from cors_policies.middleware import is_same_origin

    request = RequestFactory().get("/")
    request.META.pop("HTTP_HOST", None)
    request.META.update(meta)
    assert is_same_origin(request, origin) is expected


class TestAuthoritative:
    """On a covered path the policy's answer is the only CORS answer: headers a view or an inner middleware
    set are removed, also when the policy refuses (then there are none at all)."""

    @pytest.fixture
    def strict(self, make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
        return make_policy(name="strict", path_pattern="/t/**", allowed_origins=["https://good.example"])

    def test_allowed_origin_gets_the_policys_answer_only(self, client: Client, strict: CorsPolicy) -> None:
        response = client.get("/t/leaky", HTTP_ORIGIN="https://good.example")
        assert cors(response) == {"Access-Control-Allow-Origin": "https://good.example", "Vary": "Origin"}
        assert urls.calls == ["GET /t/leaky"]

    @pytest.mark.parametrize("origin", ["https://evil.example", "null", "https://good.example.evil.example"])
    def test_refused_origin_gets_no_cors_headers_at_all(self, client: Client, strict: CorsPolicy, origin: str) -> None:
        response = client.get("/t/leaky", HTTP_ORIGIN=origin)
        assert response.status_code == 200
        assert cors(response) == {"Vary": "Origin"}

    def test_a_request_without_origin_gets_none_either(self, client: Client, strict: CorsPolicy) -> None:
        assert cors(client.get("/t/leaky")) == {"Vary": "Origin"}

    def test_any_origin_policy_keeps_its_own_answer(self, client: Client, make_policy: Callable[..., Any]) -> None:
        make_policy(path_pattern="/t/**", allowed_origins=["*"], expose_headers=["X-Total"])
        response = client.get("/t/leaky", HTTP_ORIGIN="https://evil.example")
        assert cors(response) == {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "X-Total"}

    def test_an_inner_middleware_cannot_add_cors_headers(
        self, client: Client, strict: CorsPolicy, settings: Any
    ) -> None:
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.urls.LeakyMiddleware"]
        assert cors(client.get("/t/echo", HTTP_ORIGIN="https://evil.example")) == {"Vary": "Origin"}
        allowed = client.get("/t/echo", HTTP_ORIGIN="https://good.example")
        assert cors(allowed) == {"Access-Control-Allow-Origin": "https://good.example", "Vary": "Origin"}

    def test_the_views_headers_stay_where_no_policy_applies(self, client: Client, strict: CorsPolicy) -> None:
        response = client.get("/other/leaky", HTTP_ORIGIN="https://evil.example")
        assert cors(response) == {"Access-Control-Allow-Origin": "https://evil.example", **urls.LEAKED}

    def test_a_report_only_policy_changes_nothing(self, client: Client, make_policy: Callable[..., Any]) -> None:
        make_policy(path_pattern="/t/**", allowed_origins=["https://good.example"], report_only=True)
        response = client.get("/t/leaky", HTTP_ORIGIN="https://evil.example")
        assert cors(response) == {"Access-Control-Allow-Origin": "https://evil.example", **urls.LEAKED}

    def test_async_too(self, strict: CorsPolicy) -> None:
        refused = async_to_sync(AsyncClient().get)("/t/leaky", headers={"Origin": "https://evil.example"})
        assert cors(refused) == {"Vary": "Origin"}
        allowed = async_to_sync(AsyncClient().get)("/t/leaky", headers={"Origin": "https://good.example"})
        assert cors(allowed) == {"Access-Control-Allow-Origin": "https://good.example", "Vary": "Origin"}

    def test_remove_cors_headers_keeps_the_others(self, strict: CorsPolicy) -> None:
        from django.http import HttpResponse

        from cors_policies.middleware import remove_cors_headers

        response = HttpResponse()
        response["Access-Control-Allow-Origin"] = "*"
        response["X-Kept"] = "1"
        remove_cors_headers(response)
        assert dict(response.items()) == {"Content-Type": "text/html; charset=utf-8", "X-Kept": "1"}


# -- one decide for every face ---------------------------------------------------------------------------------

#: (page's method, Origin, Access-Control-Request-Headers, preflight, private network, path)
ASKED = [
    ("GET", APP, "", False, False, "/t/echo"),
    ("GET", "https://evil.test", "", False, False, "/t/echo"),
    ("GET", "https://a.example.org", "", False, False, "/t/echo"),
    ("GET", "HTTPS://app.example.com", "", False, False, "/t/echo"),
    ("PUT", APP, "x-token,content-type", True, False, "/t/echo"),
    ("PUT", APP, "x-other", True, False, "/t/echo"),
    ("PATCH", APP, "", True, False, "/t/echo"),
    ("DELETE", APP, "", True, True, "/t/echo"),
    ("GET", APP, "", False, False, "/other"),
    ("PUT", APP, "", True, False, "/other"),
]


@pytest.mark.parametrize(("method", "origin", "names", "is_preflight", "private", "path"), ASKED)
def test_the_middleware_the_tester_and_the_api_give_the_same_headers(
    client: Client,
    api_client: Any,
    api_policy: CorsPolicy,
    method: str,
    origin: str,
    names: str,
    is_preflight: bool,
    private: bool,
    path: str,
) -> None:
    """The middleware, the tester's service and the API's evaluate endpoint all call the engine's one decide: for the
    same request they answer the same headers and Vary."""
    if is_preflight:
        meta = {"HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK": "true"} if private else {}
        response = preflight(client, path, origin, method, request_headers=names, **meta)
    else:
        response = client.get(path, HTTP_ORIGIN=origin)
    served = cors(response)
    vary = [name.strip() for name in served.pop("Vary", "").split(",") if name.strip()]

    header_names = names.split(",") if names else []
    tester = evaluation.evaluate(
        origin=origin,
        method=method,
        path=path,
        request_headers=header_names,
        preflight=is_preflight,
        private_network=private,
    )
    assert tester.decision is not None
    assert (dict(tester.decision.headers), list(tester.decision.vary)) == (served, vary)

    with override_settings(ROOT_URLCONF="tests.root_urls"):  # the API's URLs
        answer = api_client.post(
            "/api/cors/evaluate/",
            {
                "origin": origin,
                "method": method,
                "path": path,
                "request_headers": header_names,
                "preflight": is_preflight,
                "private_network": private,
            },
            format="json",
        )
    assert answer.status_code == 200, answer.content
    assert (answer.json()["response_headers"], answer.json()["vary"]) == (served, vary)
    assert answer.json()["allowed"] is tester.decision.allowed


def test_the_middleware_reads_the_request_in_one_place(rf: Any) -> None:
    request = rf.options(
        "/t/echo",
        HTTP_ORIGIN=APP,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-token, content-type",
        HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK="TRUE",
    )
    assert request_info(request) == RequestInfo("/t/echo", "OPTIONS", APP, "PUT", "x-token, content-type", True)
    assert request_info(rf.get("/x")) == RequestInfo("/x", "GET", None, None, None, False)
