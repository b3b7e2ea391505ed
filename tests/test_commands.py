"""The management commands, by their exact output: cors_import_settings, cors_explain, cors_export, cors_apply."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from cors_policies import sync
from cors_policies.api.serializers import POLICY_FIELDS
from cors_policies.cache import snapshot
from cors_policies.models import CorsPolicy, PolicySetVersion

pytestmark = pytest.mark.django_db


def run(*args: Any, stdin: str | None = None, monkeypatch: pytest.MonkeyPatch | None = None) -> str:
    out = io.StringIO()
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command(*args, stdout=out)
    return out.getvalue()


def error(*args: Any) -> str:
    with pytest.raises(CommandError) as info:
        call_command(*args, stdout=io.StringIO())
    return str(info.value)


# --------------------------------------------------------------------------------------------------
# cors_import_settings
# --------------------------------------------------------------------------------------------------

LEGACY = {
    "CORS_ORIGIN_WHITELIST": ["https://App.example.com", "http://localhost:3000"],
    "CORS_URLS_REGEX": r"^/api/.*$",
    "CORS_ALLOW_CREDENTIALS": True,
    "CORS_EXPOSE_HEADERS": ["X-Total-Count"],
    "CORS_PREFLIGHT_MAX_AGE": 600,
}

DEFAULT = "(not set: django-cors-headers' default)"
IMPORTED = (
    "Policy 'django-cors-headers', from the django-cors-headers settings:\n"
    '  name = "django-cors-headers"\n'
    '  description = "Imported from the django-cors-headers settings by manage.py cors_import_settings."\n'
    '  path_pattern = "^/api/.*$"  # CORS_URLS_REGEX\n'
    "  priority = 0\n"
    "  enabled = true\n"
    '  allowed_origins = ["https://app.example.com", "http://localhost:3000"]  '
    "# CORS_ORIGIN_WHITELIST (the old name of CORS_ALLOWED_ORIGINS)\n"
    f"  allowed_origin_regexes = []  # CORS_ALLOWED_ORIGIN_REGEXES {DEFAULT}\n"
    f'  allowed_methods = ["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"]  # CORS_ALLOW_METHODS {DEFAULT}\n'
    '  allowed_headers = ["accept", "authorization", "content-type", "user-agent", "x-csrftoken", '
    f'"x-requested-with"]  # CORS_ALLOW_HEADERS {DEFAULT}\n'
    '  expose_headers = ["X-Total-Count"]  # CORS_EXPOSE_HEADERS\n'
    "  allow_credentials = true  # CORS_ALLOW_CREDENTIALS\n"
    "  max_age = 600  # CORS_PREFLIGHT_MAX_AGE\n"
    f"  allow_private_network = false  # CORS_ALLOW_PRIVATE_NETWORK {DEFAULT}\n"
    "  csrf_trusted = false\n"
)
SWAP = (
    "Next: in MIDDLEWARE, replace 'corsheaders.middleware.CorsMiddleware' with "
    "'cors_policies.middleware.CorsPolicyMiddleware' (first in the list), and remove 'corsheaders' from "
    "INSTALLED_APPS.\n"
)


@pytest.fixture
def legacy_settings(settings: Any) -> Any:
    for name, value in LEGACY.items():
        setattr(settings, name, value)
    return settings


def imported_fields() -> dict[str, Any]:
    [policy] = sync.export_document()["policies"]
    return policy


def test_import_settings_creates_the_policy(legacy_settings: Any, committed: Callable[[], Any]) -> None:
    with committed():
        output = run("cors_import_settings")
    assert output == IMPORTED + "Created policy 'django-cors-headers'.\n" + SWAP
    policy = imported_fields()
    assert policy["allowed_origins"] == ["https://app.example.com", "http://localhost:3000"]
    assert policy["path_pattern"] == "^/api/.*$"
    policy_set = snapshot.get()
    assert policy_set is not None and policy_set.match("/api/x") is not None


def test_import_settings_again_changes_nothing_then_updates_by_name(legacy_settings: Any) -> None:
    run("cors_import_settings")
    assert run("cors_import_settings") == IMPORTED + "Policy 'django-cors-headers' is already up to date.\n" + SWAP
    legacy_settings.CORS_PREFLIGHT_MAX_AGE = 60
    legacy_settings.CORS_ALLOW_PRIVATE_NETWORK = True
    output = run("cors_import_settings")
    assert output.endswith("Updated policy 'django-cors-headers': max_age, allow_private_network.\n" + SWAP)
    assert CorsPolicy.objects.count() == 1
    assert (imported_fields()["max_age"], imported_fields()["allow_private_network"]) == (60, True)


def test_import_settings_dry_run_writes_nothing(legacy_settings: Any) -> None:
    output = run("cors_import_settings", "--dry-run", "--name", "legacy")
    assert output.startswith("Policy 'legacy', from the django-cors-headers settings:\n  name = \"legacy\"\n")
    assert output.endswith("Would create policy 'legacy'. Dry run: nothing written.\n")
    assert not CorsPolicy.objects.exists()


def test_import_settings_prints_the_notes(settings: Any) -> None:
    settings.CORS_ALLOW_ALL_ORIGINS = True
    settings.CORS_ALLOWED_ORIGINS = ["https://a.example.com"]
    settings.CORS_PREFLIGHT_MAX_AGE = 0
    output = run("cors_import_settings", "--dry-run")
    assert (
        "  max_age = null  # CORS_PREFLIGHT_MAX_AGE\n"
        f"  allow_private_network = false  # CORS_ALLOW_PRIVATE_NETWORK {DEFAULT}\n"
        "  csrf_trusted = false\n"
        "Notes:\n"
        "  - CORS_ALLOWED_ORIGINS is ignored: CORS_ALLOW_ALL_ORIGINS allows every origin, in django-cors-headers "
        "too.\n"
        "  - CORS_PREFLIGHT_MAX_AGE is 0: no Access-Control-Max-Age is sent, as before (browsers then cache a "
        "preflight for 5 seconds).\n"
        "Would create policy 'django-cors-headers'. Dry run: nothing written.\n"
    ) in output
    assert '  allowed_origins = ["*"]  # CORS_ALLOW_ALL_ORIGINS\n' in output


def test_import_settings_refuses_any_origin_with_credentials(settings: Any) -> None:
    settings.CORS_ORIGIN_ALLOW_ALL = True
    settings.CORS_ALLOW_CREDENTIALS = True
    message = error("cors_import_settings")
    assert message.startswith("CORS_ORIGIN_ALLOW_ALL = True with CORS_ALLOW_CREDENTIALS = True: django-cors-headers")
    _, _, rest = message.partition("A safe policy (any origin, without credentials):\n")
    document, _, last = rest.rpartition("\n")
    assert last == "Save it as a file and run manage.py cors_apply FILE to create it."
    [suggested] = json.loads(document)["policies"]
    assert (suggested["allowed_origins"], suggested["allow_credentials"]) == (["*"], False)
    assert sync.validate_document({"policies": [suggested]})  # it is a valid policy
    assert not CorsPolicy.objects.exists()


def test_import_settings_names_the_setting_of_an_invalid_value(settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com/"]
    settings.CORS_ALLOW_HEADERS = ["x token"]
    assert error("cors_import_settings") == (
        "The django-cors-headers settings do not make a valid policy; nothing was written:\n"
        "  CORS_ALLOWED_ORIGINS: 'https://app.example.com/' contains a path; an origin is only "
        "scheme://host[:port], so write https://app.example.com (browsers send no trailing slash).\n"
        "  CORS_ALLOW_HEADERS: 'x token' is not a valid header name: use letters, digits and -, without spaces, "
        "commas or colons (one header name per entry, such as \"X-Requested-With\"), or '*' for any."
    )
    assert not CorsPolicy.objects.exists()


def test_import_settings_refuses_a_wrong_type_and_a_blank_name(settings: Any) -> None:
    settings.CORS_ALLOW_METHODS = "GET"
    assert error("cors_import_settings").startswith("CORS_ALLOW_METHODS is the string 'GET'; write a list")
    del settings.CORS_ALLOW_METHODS
    assert error("cors_import_settings", "--name", " ") == (
        "The django-cors-headers settings do not make a valid policy; nothing was written:\n"
        "  --name: This field may not be blank."
    )


def test_import_settings_notes_signal_receivers(settings: Any) -> None:
    from corsheaders.signals import check_request_enabled

    def enable(sender: Any, request: Any, **kwargs: Any) -> bool:
        return False

    settings.CORS_ORIGIN_ALLOW_ALL = True
    check_request_enabled.connect(enable)
    try:
        output = run("cors_import_settings", "--dry-run")
    finally:
        check_request_enabled.disconnect(enable)
    assert "  - django-cors-headers' check_request_enabled signal has receivers" in output


# --------------------------------------------------------------------------------------------------
# cors_explain
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def policies(make_policy: Callable[..., CorsPolicy]) -> list[CorsPolicy]:
    return [
        make_policy(
            name="api",
            path_pattern="/api/**",
            allowed_origins=["https://app.example.com"],
            allowed_methods=["GET", "PUT"],
            allowed_headers=["Content-Type"],
            allow_credentials=True,
            max_age=600,
        ),
        make_policy(name="items", path_pattern="/api/items/*", priority=5, allowed_origins=["*"], expose_headers=[]),
    ]


def test_explain_an_allowed_preflight(policies: list[CorsPolicy]) -> None:
    output = run(
        "cors_explain", "--origin", "https://app.example.com", "--method", "PUT", "--path", "/api/users/1",
        "--header", "content-type", "--preflight",
    )  # fmt: skip
    assert output == (
        "Request: the preflight (OPTIONS) for PUT /api/users/1 from https://app.example.com, asking for headers "
        "content-type\n"
        f"Policy: api (id {policies[0].pk})\n"
        "Verdict: allowed (the browser sends the PUT request)\n"
        "Response: 200, empty (the middleware answers the preflight itself)\n"
        "  Access-Control-Allow-Origin: https://app.example.com\n"
        "  Access-Control-Allow-Methods: GET, PUT\n"
        "  Access-Control-Allow-Headers: Content-Type\n"
        "  Access-Control-Allow-Credentials: true\n"
        "  Access-Control-Max-Age: 600\n"
        "  Vary: Origin\n"
        "Why this policy:\n"
        "  Policy 'api' applies: its glob '/api/**' matches /api/users/1 (priority 0).\n"
    )


def test_explain_a_refused_preflight_with_every_reason(policies: list[CorsPolicy], settings: Any) -> None:
    settings.CORS_POLICIES = {"PREFLIGHT_STATUS": 204}
    output = run(
        "cors_explain", "--origin", "https://evil.example", "--method", "DELETE", "--path", "/api/users/1",
        "--header", "X-Token, Authorization", "--header", "X-Other", "--preflight", "--private-network",
    )  # fmt: skip
    assert output == (
        "Request: the preflight (OPTIONS) for DELETE /api/users/1 from https://evil.example, asking for headers "
        "X-Token, Authorization, X-Other, asking for private network access\n"
        f"Policy: api (id {policies[0].pk})\n"
        "Verdict: refused (the browser does not send the DELETE request)\n"
        "Response: 204, empty (the middleware answers the preflight itself)\n"
        "  Vary: Origin\n"
        "Reasons:\n"
        "  - origin https://evil.example is not allowed by policy 'api' (it allows https://app.example.com)\n"
        "  - method DELETE is not in the allowed methods GET, PUT\n"
        "  - request headers x-token, authorization, x-other are not in the allowed headers Content-Type\n"
        "  - policy 'api' does not allow private network access (Access-Control-Request-Private-Network)\n"
        "Why this policy:\n"
        "  Policy 'api' applies: its glob '/api/**' matches /api/users/1 (priority 0).\n"
    )


def test_explain_an_actual_request_from_a_url_and_why_a_policy_wins(policies: list[CorsPolicy]) -> None:
    output = run(
        "cors_explain", "--origin", "https://shop.example", "--path", "https://api.example.com/api/items/5?x=1"
    )
    assert output == (
        "Request: GET /api/items/5 from https://shop.example\n"
        f"Policy: items (id {policies[1].pk})\n"
        "Verdict: allowed (the browser lets the page read the response)\n"
        "Response: the view's, with these headers\n"
        "  Access-Control-Allow-Origin: *\n"
        "Why this policy:\n"
        "  Policy 'items' applies: its glob '/api/items/*' matches /api/items/5 (priority 5).\n"
        "  It wins over 'api' ('/api/**'): higher priority (5 > 0).\n"
    )


def test_explain_a_refused_actual_request(policies: list[CorsPolicy]) -> None:
    output = run("cors_explain", "--origin", "https://evil.example", "--method", "POST", "--path", "/api/x")
    assert output == (
        "Request: POST /api/x from https://evil.example\n"
        f"Policy: api (id {policies[0].pk})\n"
        "Verdict: refused (the browser hides the response from the page)\n"
        "Response: the view's, with these headers\n"
        "  Vary: Origin\n"
        "Reasons:\n"
        "  - origin https://evil.example is not allowed by policy 'api' (it allows https://app.example.com)\n"
        "Why this policy:\n"
        "  Policy 'api' applies: its glob '/api/**' matches /api/x (priority 0).\n"
    )


def test_explain_a_refusal_without_any_header(policies: list[CorsPolicy]) -> None:
    """A policy allowing any origin answers without Vary, so a refused preflight gets no header at all."""
    output = run(
        "cors_explain", "--origin", "https://a.example", "--method", "PROPFIND", "--path", "/api/items/1", "--preflight"
    )
    assert output == (
        "Request: the preflight (OPTIONS) for PROPFIND /api/items/1 from https://a.example\n"
        f"Policy: items (id {policies[1].pk})\n"
        "Verdict: refused (the browser does not send the PROPFIND request)\n"
        "Response: 200, empty (the middleware answers the preflight itself)\n"
        "  (no CORS headers)\n"
        "Reasons:\n"
        "  - method PROPFIND is not in the allowed methods GET, PUT\n"
        "Why this policy:\n"
        "  Policy 'items' applies: its glob '/api/items/*' matches /api/items/1 (priority 5).\n"
        "  It wins over 'api' ('/api/**'): higher priority (5 > 0).\n"
    )


def test_explain_a_path_no_policy_covers(policies: list[CorsPolicy]) -> None:
    output = run("cors_explain", "--origin", "https://app.example.com", "--path", "/about")
    assert output == (
        "Request: GET /about from https://app.example.com\n"
        "Policy: none (no enabled policy covers this path: the middleware adds nothing)\n"
        "Verdict: refused (the browser hides the response from the page)\n"
        "Reasons:\n"
        "  - no policy covers /about\n"
        "Why:\n"
        "  No enabled policy's path pattern matches /about.\n"
    )


@pytest.mark.parametrize("path", ["/admin/", "/admin/cors_policies/corspolicy/", "/api/cors/policies/"])
def test_explain_a_protected_path_as_the_middleware_treats_it(
    make_policy: Callable[..., CorsPolicy], path: str
) -> None:
    """A catch-all policy does not govern the admin or the API: the command says so, as the tester and the API do."""
    make_policy(name="everything", path_pattern="/**", allowed_origins=["*"])
    output = run("cors_explain", "--origin", "https://app.example.com", "--path", path)
    prefix = "/admin/" if path.startswith("/admin/") else "/api/cors/"
    entry = "admin:index" if prefix == "/admin/" else "cors_policies_api:root"
    reason = (
        f"{path} is under {prefix} ({entry}), a protected path: no policy decorates or preflights it, whatever the "
        "policies say (CORS_POLICIES['PROTECTED_PATHS'])"
    )
    assert output == (
        f"Request: GET {path} from https://app.example.com\n"
        "Policy: none (a protected path: the middleware leaves it alone, whatever the policies say)\n"
        "Verdict: refused (the browser hides the response from the page)\n"
        "Reasons:\n"
        f"  - {reason}\n"
        "Why:\n"
        f"  {reason[0].upper() + reason[1:]}.\n"
    )


def test_explain_json_is_the_api_evaluate_answer(policies: list[CorsPolicy]) -> None:
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    args = {"origin": "https://app.example.com", "method": "PUT", "path": "/api/x", "preflight": True}
    output = run(
        "cors_explain", "--json", "--origin", args["origin"], "--method", "PUT", "--path", "/api/x", "--preflight"
    )
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_superuser("root", None, None))
    response = client.post("/api/cors/evaluate/", args, format="json")
    assert response.status_code == 200
    assert json.loads(output) == response.json()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--origin", "https://a.example", "--path", "api/x"], "--path: Write a path starting with '/'"),
        (["--origin", " ", "--path", "/x"], "--origin: This field is required."),
    ],
)
def test_explain_bad_input_says_what_to_write(policies: list[CorsPolicy], args: list[str], message: str) -> None:
    assert error("cors_explain", *args).startswith(message)


def test_explain_without_a_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot, "get", lambda: None)
    assert error("cors_explain", "--origin", "https://a.example", "--path", "/x") == (
        "The CORS policies could not be loaded from the database (the log above says why), so there is nothing "
        "to explain. Check DATABASES and that migrations ran (manage.py migrate), then retry."
    )


# cors_explain --websocket: what PolicyOriginValidator does with a handshake (issue 17), through the same
# services.evaluate.handshake_verdict the validator calls.

SAME_ORIGIN_HINT = (
    "Same origin: a page served by the host the socket connects to (its Origin naming the Host header) connects "
    "anyway, whatever the policies say; --host checks it.\n"
)
WS_REFUSED = "Verdict: refused (PolicyOriginValidator closes the handshake; the browser reports a failed connection)\n"


def test_explain_a_refused_websocket_handshake(policies: list[CorsPolicy]) -> None:
    output = run("cors_explain", "--websocket", "--origin", "https://evil.example", "--path", "/api/users/1")
    assert output == (
        "Request: a WebSocket handshake to /api/users/1 from https://evil.example\n"
        f"Policy: api (id {policies[0].pk})\n"
        f"{WS_REFUSED}"
        "Reasons:\n"
        "  - origin https://evil.example is not allowed by policy 'api' (it allows https://app.example.com)\n"
        "Why this policy:\n"
        "  Policy 'api' applies: its glob '/api/**' matches /api/users/1 (priority 0).\n"
        f"{SAME_ORIGIN_HINT}"
    )


def test_explain_an_allowed_websocket_handshake(policies: list[CorsPolicy]) -> None:
    output = run("cors_explain", "--websocket", "--origin", "https://app.example.com", "--path", "/api/users/1")
    assert output == (
        "Request: a WebSocket handshake to /api/users/1 from https://app.example.com\n"
        f"Policy: api (id {policies[0].pk})\n"
        "Verdict: allowed (PolicyOriginValidator passes the handshake to the application)\n"
        "Why this policy:\n"
        "  Policy 'api' applies: its glob '/api/**' matches /api/users/1 (priority 0).\n"
    )


def test_explain_a_websocket_handshake_no_policy_covers(policies: list[CorsPolicy]) -> None:
    args = ("cors_explain", "--websocket", "--origin", "https://app.example.com", "--path", "/ws/x")
    assert run(*args, "--host", "api.example.com") == (
        "Request: a WebSocket handshake to /ws/x from https://app.example.com (Host: api.example.com)\n"
        "Policy: none (no enabled policy covers this path)\n"
        f"{WS_REFUSED}"
        "Reasons:\n"
        "  - no policy covers /ws/x\n"
        "Why:\n"
        "  No enabled policy's path pattern matches /ws/x.\n"
        "Same origin: no (the Origin does not name the Host api.example.com)\n"
    )
    # The site's own page connects, covered path or not, whatever the socket's scheme and default port say.
    for host in ("app.example.com", "APP.example.com:443"):
        assert run(*args, "--host", host) == (
            f"Request: a WebSocket handshake to /ws/x from https://app.example.com (Host: {host})\n"
            "Policy: not asked (same origin: the Origin names the handshake's Host)\n"
            "Verdict: allowed (PolicyOriginValidator lets the site's own pages connect, covered path or not)\n"
        )


def test_explain_a_websocket_handshake_to_a_protected_path(policies: list[CorsPolicy]) -> None:
    output = run("cors_explain", "--websocket", "--origin", "https://app.example.com", "--path", "/admin/ws")
    assert output == (
        "Request: a WebSocket handshake to /admin/ws from https://app.example.com\n"
        "Policy: none (a protected path, which no policy governs)\n"
        f"{WS_REFUSED}"
        f"{SAME_ORIGIN_HINT}"
    )


def test_explain_a_websocket_handshake_without_a_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot, "get", lambda: None)
    assert error("cors_explain", "--websocket", "--origin", "https://a.example", "--path", "/x").startswith(
        "The CORS policies could not be loaded from the database"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--websocket", "--method", "POST"],
            "--websocket: a handshake is a GET without a preflight: drop --method, --header, --preflight.",
        ),
        (
            ["--websocket", "--preflight"],
            "--websocket: a handshake is a GET without a preflight: drop --method, --header, --preflight.",
        ),
        (
            ["--websocket", "--header", "X-A"],
            "--websocket: a handshake is a GET without a preflight: drop --method, --header, --preflight.",
        ),
        (["--websocket", "--json"], "--json: not with --websocket."),
        (["--host", "a.example"], "--host: only with --websocket."),
    ],
)
def test_explain_websocket_bad_combinations(policies: list[CorsPolicy], args: list[str], message: str) -> None:
    assert error("cors_explain", "--origin", "https://a.example", "--path", "/api/x", *args) == message


# --------------------------------------------------------------------------------------------------
# cors_export and cors_apply
# --------------------------------------------------------------------------------------------------


def test_export_to_standard_output_is_the_api_export(policies: list[CorsPolicy]) -> None:
    output = run("cors_export")
    assert json.loads(output) == sync.export_document()
    assert output.startswith('{\n  "policies": [\n    {\n      "name": "api",\n')
    assert output.endswith("\n  ]\n}\n")


def test_export_to_a_file_then_apply_it_back_changes_nothing(policies: list[CorsPolicy], tmp_path: Path) -> None:
    target = tmp_path / "policies.json"
    assert run("cors_export", str(target)) == f"Exported 2 policies to {target}.\n"
    assert json.loads(target.read_text()) == sync.export_document()
    assert run("cors_apply", str(target), "--prune") == "Applied: 0 created, 0 updated, 0 deleted, 2 unchanged.\n"


def test_export_to_an_unwritable_place(tmp_path: Path) -> None:
    assert error("cors_export", str(tmp_path / "missing" / "x.json")) == (
        f"{tmp_path / 'missing' / 'x.json'}: cannot write it (No such file or directory)."
    )


def test_apply_prints_the_diff_and_is_idempotent(
    policies: list[CorsPolicy], tmp_path: Path, committed: Callable[[], Any]
) -> None:
    document = sync.export_document()
    document["policies"][0]["max_age"] = 60
    document["policies"][0]["allowed_methods"] = ["GET"]
    document["policies"].pop(1)
    document["policies"].append({"name": "health", "path_pattern": "/health", "allowed_origins": ["*"]})
    target = tmp_path / "policies.json"
    target.write_text(json.dumps(document))
    version = PolicySetVersion.objects.get().version

    dry = run("cors_apply", str(target), "--prune", "--dry-run")
    assert dry == (
        "+ health\n"
        "~ api\n"
        '    allowed_methods: ["GET", "PUT"] -> ["GET"]\n'
        "    max_age: 600 -> 60\n"
        "- items\n"
        "Dry run, nothing written: 1 created, 1 updated, 1 deleted, 0 unchanged.\n"
    )
    assert PolicySetVersion.objects.get().version == version
    with committed():
        applied = run("cors_apply", str(target), "--prune")
    assert applied == dry.replace("Dry run, nothing written", "Applied")
    assert PolicySetVersion.objects.get().version == version + 1
    assert sorted(CorsPolicy.objects.values_list("name", flat=True)) == ["api", "health"]
    assert run("cors_apply", str(target), "--prune") == "Applied: 0 created, 0 updated, 0 deleted, 2 unchanged.\n"


def test_apply_without_prune_keeps_the_others(policies: list[CorsPolicy], tmp_path: Path) -> None:
    target = tmp_path / "one.json"
    target.write_text('{"policies": [{"name": "new", "path_pattern": "/new"}]}')
    assert run("cors_apply", str(target)) == "+ new\nApplied: 1 created, 0 updated, 0 deleted, 0 unchanged.\n"
    assert CorsPolicy.objects.count() == 3


def test_apply_reads_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    output = run(
        "cors_apply", "-", stdin='{"policies": [{"name": "a", "path_pattern": "/a"}]}', monkeypatch=monkeypatch
    )
    assert output == "+ a\nApplied: 1 created, 0 updated, 0 deleted, 0 unchanged.\n"


def test_apply_a_missing_file_or_a_directory(tmp_path: Path) -> None:
    assert error("cors_apply", str(tmp_path / "nope.json")) == (
        f"{tmp_path / 'nope.json'}: no such file; give the path of a document written by cors_export."
    )
    assert error("cors_apply", str(tmp_path)) == (
        f"{tmp_path}: is a directory; give the path of a document written by cors_export."
    )


def test_apply_an_unreadable_path(tmp_path: Path) -> None:
    name = str(tmp_path / ("x" * 300))
    assert error("cors_apply", name) == f"{name}: cannot read it (File name too long)."


def test_import_settings_without_django_cors_headers_installed(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "corsheaders.signals", None)  # import raises ImportError
    settings.CORS_ORIGIN_ALLOW_ALL = True
    assert "check_request_enabled" not in run("cors_import_settings", "--dry-run")


def test_apply_bad_json_and_bad_encoding(tmp_path: Path) -> None:
    target = tmp_path / "bad.json"
    target.write_text('{"policies": [\n  {"name": "a",}\n]}')
    # Python words and places this error its own way (3.13: "Illegal trailing comma", one column earlier).
    with pytest.raises(json.JSONDecodeError) as python:
        json.loads(target.read_text())
    assert python.value.lineno == 2
    assert error("cors_apply", str(target)) == (
        f"{target}: not valid JSON (line 2, column {python.value.colno}: {python.value.msg}); "
        'a document looks like {"policies": [{"name": "api", "path_pattern": "/api/**"}]}.'
    )
    target.write_bytes(b'{"policies": ["\xff"]}')
    assert (
        error("cors_apply", str(target)) == f"{target}: is not UTF-8 text; a document is JSON, written by cors_export."
    )


def test_apply_invalid_policies_names_the_file_the_policy_and_the_field(
    policies: list[CorsPolicy], tmp_path: Path
) -> None:
    target = tmp_path / "invalid.json"
    target.write_text(
        json.dumps(
            {
                "policies": [
                    {"name": "ok", "path_pattern": "/ok"},
                    {"name": "bad", "path_pattern": "api/**"},
                    {"name": "open", "path_pattern": "/o", "allowed_origins": ["*"], "allow_credentials": True},
                    "not a policy",
                    {"name": "ok", "path_pattern": "/again"},
                    {"name": "colourful", "path_pattern": "/c", "colour": "red"},
                ]
            }
        )
    )
    before = sync.export_document()
    assert error("cors_apply", str(target), "--prune") == (
        f"{target}: nothing was written, because of 5 errors:\n"
        "  policy 1 ('bad'): path_pattern: 'api/**' must start with '/' (a path or glob, such as /api/**) or with "
        "'^' (a regular expression).\n"
        "  policy 2 ('open'): allowed_origins: '*' cannot be used with credentials: every web page could then read "
        "your users' data with their cookies. List the origins that need credentials instead, such as "
        "https://app.example.com.\n"
        "  policy 3: Invalid data. Expected a dictionary, but got str.\n"
        "  policy 4 ('ok'): name: 'ok' is already the name of policy 0 in this document; each policy appears once "
        "(names are unique).\n"
        f"  policy 5 ('colourful'): colour: Unknown field; write only these fields: {', '.join(POLICY_FIELDS)}."
    )
    assert sync.export_document() == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", 'Send a JSON object with a "policies" list, such as the export returns: {"policies": [...]}.'),
        (
            "{}",
            'policies: This field is required: write "policies": [...], a list of policies such as the export returns.',
        ),
        ('{"policies": [], "policy": []}', "policy: Unknown field; a document has only policies."),
        (
            '{"policies": {}}',
            'policies: Write a list of policies, such as [{"name": "public-api", "path_pattern": "/api/**"}].',
        ),
    ],
)
def test_apply_a_document_of_the_wrong_shape(tmp_path: Path, text: str, message: str) -> None:
    target = tmp_path / "shape.json"
    target.write_text(text)
    assert error("cors_apply", str(target)) == f"{target}: nothing was written, because of 1 error:\n  {message}"
