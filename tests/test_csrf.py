"""CSRF trust per policy (issue 17): the ``csrf_trusted`` field in every door (model, admin, API, documents,
``cors_import_settings``), then ``cors_policies.csrf.CsrfViewMiddleware``, which makes Django's CSRF origin and
referer checks accept the origins a policy trusts, live from the snapshot."""

from __future__ import annotations

import inspect
import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import Error as CheckError
from django.core.checks.registry import registry
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.middleware.csrf import CsrfViewMiddleware as DjangoCsrfViewMiddleware
from django.test import Client

from cors_policies import validators
from cors_policies.corsheaders_settings import translate
from cors_policies.csrf import CsrfViewMiddleware, policy_trusts, referer_origin
from cors_policies.engine import PolicySet, PolicySpec
from cors_policies.models import CorsPolicy
from cors_policies.services import documents
from cors_policies.services import evaluate as evaluation
from tests.helpers import ADD_URL, APP, TESTER_URL, form_data

pytestmark = pytest.mark.django_db

POLICIES = "/api/cors/policies/"

#: (fields beside csrf_trusted=True, the csrf_trusted messages): every way a policy cannot be CSRF-trusted.
REFUSED: list[tuple[dict[str, Any], list[str]]] = [
    ({"allow_credentials": False, "allowed_origins": [APP]}, [validators.CSRF_NEEDS_CREDENTIALS]),
    ({"allow_credentials": False, "allowed_origins": ["*"]}, [validators.CSRF_NEEDS_CREDENTIALS, validators.CSRF_STAR]),
    ({"allow_credentials": True, "allowed_origins": [APP, "null"]}, [validators.CSRF_NULL]),
    (
        {"allow_credentials": True, "allowed_origins": [APP], "allowed_origin_regexes": [r"^https://a\.example\.com$"]},
        [validators.CSRF_REGEXES],
    ),
    ({"allow_credentials": True, "allowed_origins": []}, [validators.CSRF_NEEDS_ORIGINS]),
    (
        {"allow_credentials": True, "allowed_origins": [], "allowed_origin_regexes": [r"^https://a\.example\.com$"]},
        [validators.CSRF_REGEXES, validators.CSRF_NEEDS_ORIGINS],
    ),
]


def test_the_fields_are_off_by_default() -> None:
    policy = CorsPolicy(name="p", path_pattern="/p")
    assert (policy.csrf_trusted, policy.timing_allow_origin, policy.allow_private_network) == (False, False, False)


@pytest.mark.parametrize(
    "origins", [[APP], ["https://*.example.com"], [APP, "http://localhost:3000", "https://*.example.org"]]
)
def test_csrf_trust_takes_credentials_with_exact_origins_and_subdomain_wildcards(origins: list[str]) -> None:
    policy = CorsPolicy(name="p", path_pattern="/p", allowed_origins=origins, allow_credentials=True, csrf_trusted=True)
    policy.full_clean()


@pytest.mark.parametrize(("fields", "messages"), REFUSED)
def test_the_model_refuses_csrf_trust_saying_what_to_write(fields: dict[str, Any], messages: list[str]) -> None:
    policy = CorsPolicy(name="p", path_pattern="/p", csrf_trusted=True, **fields)
    with pytest.raises(ValidationError) as info:
        policy.clean()
    assert info.value.message_dict["csrf_trusted"] == messages


def test_star_with_credentials_and_csrf_trust_says_both() -> None:
    with pytest.raises(ValidationError) as info:
        validators.validate_policy(allowed_origins=["*"], allow_credentials=True, csrf_trusted=True)
    assert info.value.message_dict == {
        "allowed_origins": [validators.STAR_WITH_CREDENTIALS],
        "csrf_trusted": [validators.CSRF_STAR],
    }


def test_without_csrf_trust_the_same_fields_are_fine() -> None:
    for fields, _ in REFUSED:
        if "*" not in fields["allowed_origins"]:
            CorsPolicy(name="p", path_pattern="/p", **fields).clean()


@pytest.mark.parametrize(("fields", "messages"), REFUSED)
def test_the_api_gives_the_same_messages(api_client: Any, fields: dict[str, Any], messages: list[str]) -> None:
    body = {"name": "p", "path_pattern": "/p", "csrf_trusted": True, **fields}
    response = api_client.post(POLICIES, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"csrf_trusted": messages}


@pytest.mark.parametrize(("fields", "messages"), REFUSED[:1] + REFUSED[2:])
def test_the_admin_gives_the_same_messages(admin_client: Client, fields: dict[str, Any], messages: list[str]) -> None:
    data = form_data(
        allowed_origins="\n".join(fields["allowed_origins"]),
        allowed_origin_regexes="\n".join(fields.get("allowed_origin_regexes", [])),
        csrf_trusted="on",
        allow_credentials="on" if fields["allow_credentials"] else None,
    )
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["csrf_trusted"] == messages
    assert not CorsPolicy.objects.exists()


def test_the_admin_saves_and_shows_both_fields(admin_client: Client) -> None:
    response = admin_client.post(
        ADD_URL, form_data(allow_credentials="on", csrf_trusted="on", timing_allow_origin="on")
    )
    assert response.status_code == 302
    policy = CorsPolicy.objects.get(name="partners")
    assert (policy.csrf_trusted, policy.timing_allow_origin) == (True, True)
    html = admin_client.get(f"{ADD_URL[: -len('add/')]}{policy.pk}/change/").content.decode()
    assert ">Beyond CORS</h2>" in html  # its own fieldset (Django 4.2 writes a bare <h2>, 5.x adds an id)
    for name in ("csrf_trusted", "timing_allow_origin"):
        assert re.search(rf'<input type="checkbox" name="{name}"[^>]* checked>', html)


def test_the_api_writes_and_reads_both_fields(api_client: Any) -> None:
    body = {
        "name": "p",
        "path_pattern": "/p",
        "allowed_origins": [APP],
        "allow_credentials": True,
        "csrf_trusted": True,
        "timing_allow_origin": True,
    }
    response = api_client.post(POLICIES, body, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["csrf_trusted"], response.json()["timing_allow_origin"]) == (True, True)
    response = api_client.post(POLICIES, {**body, "name": "q", "timing_allow_origin": "yes"}, format="json")
    assert response.json() == {"timing_allow_origin": ["Write true or false."]}


def test_export_and_import_carry_both_fields(make_policy: Callable[..., Any]) -> None:
    make_policy(name="p", path_pattern="/p", allowed_origins=[APP], allow_credentials=True, csrf_trusted=True)
    [exported] = documents.export_document()["policies"]
    assert (exported["csrf_trusted"], exported["timing_allow_origin"]) == (True, False)
    [validated] = documents.validate_document({"policies": [{**exported, "timing_allow_origin": True}]})
    assert (validated["csrf_trusted"], validated["timing_allow_origin"]) == (True, True)
    with pytest.raises(documents.DocumentError) as info:
        documents.validate_document({"policies": [{**exported, "allow_credentials": False}]})
    assert info.value.errors == {"policies": {"0": {"csrf_trusted": [validators.CSRF_NEEDS_CREDENTIALS]}}}


# -- django-cors-headers' settings ------------------------------------------------------------------------

LEGACY = {
    "CORS_ALLOWED_ORIGINS": ["https://app.example.com", "https://shop.example.org"],
    "CORS_ALLOW_CREDENTIALS": True,
}


@pytest.mark.parametrize(
    "trusted",
    [
        ["https://app.example.com", "https://shop.example.org"],
        ["https://*.example.com", "https://shop.example.org:443", "https://other.example.net"],
    ],
)
def test_csrf_trusted_origins_listing_every_allowed_origin_makes_the_policy_trusted(trusted: list[str]) -> None:
    translation = translate({**LEGACY, "CSRF_TRUSTED_ORIGINS": trusted})
    assert translation.policy["csrf_trusted"] is True
    assert translation.sources["csrf_trusted"] == "CSRF_TRUSTED_ORIGINS"
    assert translation.notes == [
        "CSRF_TRUSTED_ORIGINS lists every allowed origin, so the policy is CSRF-trusted: with "
        "'cors_policies.csrf.CsrfViewMiddleware' in place of 'django.middleware.csrf.CsrfViewMiddleware', "
        "Django's CSRF check reads that trust live from the policy, and those origins can leave CSRF_TRUSTED_ORIGINS."
    ]


PARTIAL = (
    "csrf_trusted stays off: CSRF_TRUSTED_ORIGINS does not trust every allowed origin of a credentialed policy "
    "without regexes, '*' or 'null' (CSRF trust is all or nothing per policy). Keep CSRF_TRUSTED_ORIGINS: "
    "Django's CSRF check reads it as before."
)


@pytest.mark.parametrize(
    "values",
    [
        {**LEGACY, "CSRF_TRUSTED_ORIGINS": ["https://app.example.com"]},  # one of two
        {**LEGACY, "CSRF_TRUSTED_ORIGINS": ["http://app.example.com", "https://shop.example.org"]},  # scheme
        {**LEGACY, "CSRF_TRUSTED_ORIGINS": ["https://app.example.com:8443", "https://shop.example.org"]},  # port
        {**LEGACY, "CSRF_TRUSTED_ORIGINS": ["https://*.app.example.com", "https://shop.example.org"]},  # apex
        {**LEGACY, "CORS_ALLOW_CREDENTIALS": False, "CSRF_TRUSTED_ORIGINS": LEGACY["CORS_ALLOWED_ORIGINS"]},
        {**LEGACY, "CORS_ALLOWED_ORIGINS": [APP, "null"], "CSRF_TRUSTED_ORIGINS": [APP, "null"]},
    ],
)
def test_csrf_trusted_origins_that_do_not_cover_the_policy_leave_it_off_with_a_note(values: dict[str, Any]) -> None:
    translation = translate(values)
    assert translation.policy["csrf_trusted"] is False
    assert translation.sources["csrf_trusted"] == "CSRF_TRUSTED_ORIGINS"
    assert PARTIAL in translation.notes


def test_no_csrf_trusted_origins_says_nothing() -> None:
    translation = translate({**LEGACY, "CSRF_TRUSTED_ORIGINS": []})
    assert translation.policy["csrf_trusted"] is False
    assert "csrf_trusted" not in translation.sources
    assert translation.notes == []


def test_the_imported_trusted_policy_is_valid() -> None:
    translation = translate({**LEGACY, "CSRF_TRUSTED_ORIGINS": LEGACY["CORS_ALLOWED_ORIGINS"]})
    [policy] = documents.validate_document({"policies": [translation.policy]})
    assert policy["csrf_trusted"] is True


def test_the_migration_is_reversible(tmp_path: Path) -> None:
    """Forward, back to 0006, forward again, on a database of its own."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'migrations.db'}", "REDIS_URL": ""}

    def migrate(*target: str) -> str:
        command = [sys.executable, "manage.py", "migrate", *target, "--no-input"]
        return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=True).stdout

    assert "Applying cors_policies.0007_csrf_trusted_timing_allow_origin... OK" in migrate()
    assert "Unapplying cors_policies.0007_csrf_trusted_timing_allow_origin... OK" in migrate("cors_policies", "0006")
    assert "Applying cors_policies.0007_csrf_trusted_timing_allow_origin... OK" in migrate("cors_policies")


# -- the middleware ---------------------------------------------------------------------------------------

#: A CSRF secret: the cookie and the X-CSRFToken header carry it (Django accepts the unmasked secret too).
SECRET = "a" * 32
OTHER = "https://evil.example"


@pytest.fixture
def csrf_client(settings: Any) -> Client:
    """A client that Django's CSRF checks apply to, with this app's middleware in place of Django's."""
    settings.MIDDLEWARE = [
        "cors_policies.csrf.CsrfViewMiddleware" if name == "django.middleware.csrf.CsrfViewMiddleware" else name
        for name in settings.MIDDLEWARE
    ]
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = SECRET
    return client


@pytest.fixture
def trusted(make_policy: Callable[..., Any]) -> CorsPolicy:
    policy: CorsPolicy = make_policy(
        name="app",
        path_pattern="/t/**",
        allowed_origins=[APP, "https://*.example.org"],
        allowed_methods=["POST"],
        allowed_headers=["X-CSRFToken"],
        allow_credentials=True,
        csrf_trusted=True,
    )
    return policy


def post(
    client: Client, origin: str | None = APP, path: str = "/t/echo", token: str | None = SECRET, **meta: Any
) -> Any:
    if origin is not None:
        meta["HTTP_ORIGIN"] = origin
    if token is not None:
        meta["HTTP_X_CSRFTOKEN"] = token
    return client.post(path, **meta)


def csrf_reasons(caplog: Any) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "django.security.csrf"]


@pytest.mark.usefixtures("trusted")
@pytest.mark.parametrize("origin", [APP, "https://shop.example.org", "https://a.b.example.org"])
def test_an_origin_the_policy_trusts_passes_the_origin_check(csrf_client: Client, origin: str) -> None:
    response = post(csrf_client, origin)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == origin
    assert response["Access-Control-Allow-Credentials"] == "true"


@pytest.mark.usefixtures("trusted")
@pytest.mark.parametrize(
    "origin",
    [OTHER, "https://example.org", "http://app.example.com", "https://app.example.com:8443", "null", "https://APP"],
)
def test_an_origin_the_policy_does_not_allow_fails_as_in_django(csrf_client: Client, caplog: Any, origin: str) -> None:
    response = post(csrf_client, origin)
    assert response.status_code == 403
    assert csrf_reasons(caplog) == [
        f"Forbidden (Origin checking failed - {origin} does not match any trusted origins.): /t/echo"
    ]


@pytest.mark.usefixtures("trusted")
def test_the_token_is_still_required(csrf_client: Client, caplog: Any) -> None:
    assert post(csrf_client, token=None).status_code == 403
    assert csrf_reasons(caplog) == ["Forbidden (CSRF token missing.): /t/echo"]
    csrf_client.cookies.clear()
    assert post(csrf_client).status_code == 403


def test_an_uncovered_path_or_a_policy_without_trust_is_not_trusted(
    csrf_client: Client, make_policy: Callable[..., Any]
) -> None:
    make_policy(name="p", path_pattern="/t/echo", allowed_origins=[APP], allow_credentials=True)
    assert post(csrf_client).status_code == 403
    assert post(csrf_client, path="/other").status_code == 403


@pytest.mark.usefixtures("trusted")
def test_protected_paths_are_never_trusted(
    csrf_client: Client, make_policy: Callable[..., Any], rf: Any, settings: Any
) -> None:
    make_policy(name="all", path_pattern="/**", allowed_origins=[APP], allow_credentials=True, csrf_trusted=True)
    assert policy_trusts(rf.post("/t/echo"), APP) is True
    assert policy_trusts(rf.post("/admin/login/"), APP) is False
    assert policy_trusts(rf.post("/api/cors/policies/"), APP) is False
    assert post(csrf_client, path="/admin/login/").status_code == 403


def test_turning_trust_off_applies_without_a_restart(
    csrf_client: Client, trusted: CorsPolicy, committed: Callable[[], Any]
) -> None:
    assert post(csrf_client).status_code == 200
    with committed():
        trusted.csrf_trusted = False
        trusted.save()
    assert post(csrf_client).status_code == 403
    with committed():
        CorsPolicy.objects.filter(pk=trusted.pk).update(csrf_trusted=True)
    assert post(csrf_client).status_code == 200


def test_a_report_only_policy_grants_no_trust(csrf_client: Client, make_policy: Callable[..., Any]) -> None:
    make_policy(
        name="ro",
        path_pattern="/t/**",
        allowed_origins=[APP],
        allow_credentials=True,
        csrf_trusted=True,
        report_only=True,
    )
    assert post(csrf_client).status_code == 403


@pytest.mark.parametrize(
    "fields",
    [
        {"allowed_origins": [APP], "allow_credentials": False},
        {"allowed_origins": [APP, "null"], "allow_credentials": True},
        {"allowed_origins": [], "allowed_origin_regexes": [r"https://app\.example\.com"], "allow_credentials": True},
        {"allowed_origins": ["*"], "allow_credentials": False},
    ],
)
def test_a_row_written_around_the_validators_grants_no_trust(
    csrf_client: Client, make_policy: Callable[..., Any], committed: Callable[[], Any], fields: dict[str, Any]
) -> None:
    policy = make_policy(name="p", path_pattern="/t/**", **fields)
    with committed():
        CorsPolicy.objects.filter(pk=policy.pk).update(csrf_trusted=True)
    assert post(csrf_client, origin="null" if "null" in fields["allowed_origins"] else APP).status_code == 403


@pytest.mark.usefixtures("trusted")
def test_same_origin_and_csrf_trusted_origins_work_as_in_django(csrf_client: Client, settings: Any) -> None:
    assert post(csrf_client, "http://testserver", path="/other").status_code == 200
    settings.CSRF_TRUSTED_ORIGINS = [OTHER]
    csrf_client.cookies["csrftoken"] = SECRET  # a settings change makes a new middleware, not a new client
    assert post(csrf_client, OTHER, path="/other").status_code == 200


# The referer check: Django runs it on HTTPS requests without an Origin header.


@pytest.mark.usefixtures("trusted")
@pytest.mark.parametrize(
    "referer", [f"{APP}/orders?x=1", f"{APP}:443/", "https://shop.example.org/", "HTTPS://App.Example.COM/"]
)
def test_an_https_referer_the_policy_trusts_passes(csrf_client: Client, referer: str) -> None:
    assert post(csrf_client, None, secure=True, HTTP_REFERER=referer).status_code == 200


@pytest.mark.usefixtures("trusted")
@pytest.mark.parametrize(
    ("referer", "reason"),
    [
        (None, "Referer checking failed - no Referer."),
        ("http://app.example.com/", "Referer checking failed - Referer is insecure while host is secure."),
        (
            "https://evil.example/",
            "Referer checking failed - https://evil.example/ does not match any trusted origins.",
        ),
        (
            "https://user@app.example.com/",
            "Referer checking failed - https://user@app.example.com/ does not match any trusted origins.",
        ),
        (
            "https://app.example.com:8443/",
            "Referer checking failed - https://app.example.com:8443/ does not match any trusted origins.",
        ),
        ("https://[::1/", "Referer checking failed - Referer is malformed."),
    ],
)
def test_other_referers_fail_as_in_django(csrf_client: Client, caplog: Any, referer: str | None, reason: str) -> None:
    meta = {} if referer is None else {"HTTP_REFERER": referer}
    assert post(csrf_client, None, secure=True, **meta).status_code == 403
    assert csrf_reasons(caplog) == [f"Forbidden ({reason}): /t/echo"]


@pytest.mark.parametrize(
    ("referer", "origin"),
    [
        ("https://App.example.com/x", "https://app.example.com"),
        ("https://app.example.com:443/", "https://app.example.com"),
        ("https://app.example.com:8443/", "https://app.example.com:8443"),
        ("https://[::1]:8443/", "https://[::1]:8443"),
        ("http://app.example.com/", None),
        ("https://u:p@app.example.com/", None),
        ("https:///x", None),
        ("https://app.example.com:99999/", None),
    ],
)
def test_referer_origin(referer: str, origin: str | None) -> None:
    assert referer_origin(referer) == origin


def test_the_private_django_methods_it_overrides_are_still_there() -> None:
    """Django's CSRF middleware calls these two (private) methods; the tests above pin what they do."""
    for name in ("_origin_verified", "_check_referer"):
        method = getattr(DjangoCsrfViewMiddleware, name)
        assert list(inspect.signature(method).parameters) == ["self", "request"]
    assert issubclass(CsrfViewMiddleware, DjangoCsrfViewMiddleware)


# -- the debug header's checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("debug", "value", "expected"),
    [(False, True, ["cors_policies.E022"]), (True, True, []), (False, False, []), (False, None, [])],
)
def test_the_debug_header_is_refused_by_check_deploy_without_debug(
    settings: Any, debug: bool, value: bool | None, expected: list[str]
) -> None:
    settings.DEBUG = debug
    settings.CORS_POLICIES = {} if value is None else {"DEBUG_HEADERS": value}
    assert [m.id for m in registry.run_checks() if m.id == "cors_policies.E022"] == []
    found = [m for m in registry.run_checks(include_deployment_checks=True) if m.id == "cors_policies.E022"]
    assert [m.id for m in found] == expected
    if found:
        assert isinstance(found[0], CheckError)
        assert found[0].msg == (
            "CORS_POLICIES['DEBUG_HEADERS'] is True while DEBUG is False: every response on a covered path names "
            "its CORS policy and why it refused, to anyone who asks."
        )


def test_a_debug_header_setting_that_is_not_a_flag_is_e021(settings: Any) -> None:
    settings.CORS_POLICIES = {"DEBUG_HEADERS": "yes"}
    [error] = [m for m in registry.run_checks() if m.id == "cors_policies.E021"]
    assert error.msg == "CORS_POLICIES['DEBUG_HEADERS'] is 'yes'; it must be True or False."


def test_this_csrf_middleware_above_cors_is_e002(settings: Any) -> None:
    settings.MIDDLEWARE = ["cors_policies.csrf.CsrfViewMiddleware", "cors_policies.middleware.CorsPolicyMiddleware"]
    assert [m.id for m in registry.run_checks() if m.id == "cors_policies.E002"] == ["cors_policies.E002"]


# -- the engine, the tester, evaluate and cors_explain say whether CSRF would pass ------------------------


def spec(**fields: Any) -> PolicySpec:
    base: dict[str, Any] = {"id": 1, "name": "app", "path_pattern": "/t/**", "allowed_origins": [APP]}
    return PolicySpec(**{**base, **fields})


@pytest.mark.parametrize(
    ("fields", "origin", "trusted"),
    [
        ({"allow_credentials": True, "csrf_trusted": True}, APP, True),
        ({"allow_credentials": True, "csrf_trusted": True}, OTHER, False),
        ({"allow_credentials": True, "csrf_trusted": False}, APP, False),
        ({"allow_credentials": False, "csrf_trusted": True}, APP, False),
        (
            {"allow_credentials": True, "csrf_trusted": True, "allowed_origin_regexes": [r"https://x\.example"]},
            APP,
            False,
        ),
        ({"allow_credentials": True, "csrf_trusted": True, "allowed_origins": [APP, "null"]}, APP, False),
        ({"allow_credentials": True, "csrf_trusted": True, "allowed_origins": ["https://*.example.com"]}, APP, True),
    ],
)
def test_the_decision_says_whether_the_origin_is_csrf_trusted(
    fields: dict[str, Any], origin: str, trusted: bool
) -> None:
    policies = PolicySet.build([spec(**fields)])
    assert policies.evaluate(origin=origin, method="POST", path="/t/x").csrf_trusted is trusted
    preflight = policies.evaluate(origin=origin, method="OPTIONS", path="/t/x", request_method="POST")
    assert preflight.csrf_trusted is trusted
    assert policies.evaluate(origin=origin, method="POST", path="/t/x").as_dict()["csrf_trusted"] is trusted


def test_the_tester_says_whether_csrf_would_pass(admin_client: Client, trusted: CorsPolicy) -> None:
    def csrf_line(origin: str) -> str:
        data = {"origin": origin, "method": "POST", "path": "/t/x", "request_headers": ""}
        html = admin_client.get(TESTER_URL, data).content.decode()
        found = re.search(r'<p class="cors-csrf" id="cors-csrf">(.*?)</p>', html, re.DOTALL)
        return " ".join(found.group(1).split()) if found else ""

    assert csrf_line(APP) == (
        "<strong>CSRF:</strong> the origin passes Django's CSRF origin check: this policy is CSRF-trusted (with "
        "<code>cors_policies.csrf.CsrfViewMiddleware</code>). The CSRF token is still required."
    )
    assert csrf_line(OTHER) == (
        "<strong>CSRF:</strong> this policy is CSRF-trusted, but not for this origin: Django's CSRF origin "
        "check refuses it unless <code>CSRF_TRUSTED_ORIGINS</code> lists it."
    )


def test_evaluate_says_whether_csrf_would_pass(api_client: Any, trusted: CorsPolicy) -> None:
    for origin, expected in ((APP, True), (OTHER, False)):
        body = {"origin": origin, "method": "POST", "path": "/t/x"}
        response = api_client.post("/api/cors/evaluate/", body, format="json")
        assert response.status_code == 200
        assert response.json()["csrf_trusted"] is expected
    assert evaluation.evaluate(origin=APP, method="POST", path="/t/x").csrf_trusted is True
    assert evaluation.evaluate(origin=APP, method="POST", path="/admin/").csrf_trusted is False


@pytest.mark.usefixtures("trusted")
def test_cors_explain_says_whether_csrf_would_pass() -> None:
    def explain(origin: str) -> list[str]:
        out = io.StringIO()
        call_command("cors_explain", "--origin", origin, "--method", "POST", "--path", "/t/x", stdout=out)
        return [line for line in out.getvalue().splitlines() if line.startswith("CSRF:")]

    assert explain(APP) == [
        "CSRF: passes Django's origin check (the policy is CSRF-trusted; the token is still required)"
    ]
    assert explain(OTHER) == [
        "CSRF: the policy is CSRF-trusted, but not for this origin: Django's origin check refuses it unless "
        "CSRF_TRUSTED_ORIGINS lists it"
    ]
