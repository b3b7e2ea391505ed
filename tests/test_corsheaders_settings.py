"""django-cors-headers' settings translated into a policy (pure: no database)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from corsheaders import defaults as corsheaders_defaults
from corsheaders.conf import conf as corsheaders_conf

from cors_policies.corsheaders_settings import (
    DEFAULT_HEADERS,
    DEFAULT_MAX_AGE,
    DEFAULT_METHODS,
    DEFAULT_URLS_REGEX,
    SETTING_NAMES,
    SettingsError,
    UnsafeSettings,
    path_pattern,
    translate,
)
from cors_policies.engine import PolicySet, PolicySpec

DEFAULT = "(not set: django-cors-headers' default)"


def test_the_defaults_are_the_installed_django_cors_headers_defaults(settings: Any) -> None:
    for name in SETTING_NAMES:
        if hasattr(settings, name):
            delattr(settings, name)
    assert DEFAULT_HEADERS == tuple(corsheaders_defaults.default_headers) == tuple(corsheaders_conf.CORS_ALLOW_HEADERS)
    assert DEFAULT_METHODS == tuple(corsheaders_defaults.default_methods) == tuple(corsheaders_conf.CORS_ALLOW_METHODS)
    assert corsheaders_conf.CORS_PREFLIGHT_MAX_AGE == DEFAULT_MAX_AGE
    assert corsheaders_conf.CORS_URLS_REGEX == DEFAULT_URLS_REGEX
    assert corsheaders_conf.CORS_ALLOW_ALL_ORIGINS is False
    assert corsheaders_conf.CORS_ALLOW_CREDENTIALS is False
    assert corsheaders_conf.CORS_ALLOW_PRIVATE_NETWORK is False
    assert list(corsheaders_conf.CORS_ALLOWED_ORIGINS) == []
    assert list(corsheaders_conf.CORS_ALLOWED_ORIGIN_REGEXES) == []
    assert list(corsheaders_conf.CORS_EXPOSE_HEADERS) == []


def test_no_settings_at_all_is_the_defaults() -> None:
    translation = translate({})
    assert translation.policy == {
        "name": "django-cors-headers",
        "description": "Imported from the django-cors-headers settings by manage.py cors_import_settings.",
        "path_pattern": "/**",
        "priority": 0,
        "enabled": True,
        "allowed_origins": [],
        "allowed_origin_regexes": [],
        "allowed_methods": ["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"],
        "allowed_headers": ["accept", "authorization", "content-type", "user-agent", "x-csrftoken", "x-requested-with"],
        "expose_headers": [],
        "allow_credentials": False,
        "max_age": 86400,
        "allow_private_network": False,
        "csrf_trusted": False,
    }
    assert translation.sources["allowed_methods"] == f"CORS_ALLOW_METHODS {DEFAULT}"
    assert translation.sources["path_pattern"] == f"CORS_URLS_REGEX {DEFAULT}"
    assert translation.notes == [
        "No origin is allowed: neither CORS_ALLOWED_ORIGINS nor CORS_ALLOWED_ORIGIN_REGEXES lists one, as in "
        "django-cors-headers. Add origins to the policy (or to the settings, then run the command again)."
    ]


def test_every_setting_is_copied() -> None:
    translation = translate(
        {
            "CORS_ALLOWED_ORIGINS": ["https://app.example.com", "http://localhost:3000", "null"],
            "CORS_ALLOWED_ORIGIN_REGEXES": [r"^https://\w+\.example\.org$"],
            "CORS_URLS_REGEX": r"^/api/.*$",
            "CORS_ALLOW_METHODS": ("GET", "POST", "PUT"),
            "CORS_ALLOW_HEADERS": ["content-type", "x-token"],
            "CORS_EXPOSE_HEADERS": ["x-total-count"],
            "CORS_PREFLIGHT_MAX_AGE": 600,
            "CORS_ALLOW_CREDENTIALS": True,
            "CORS_ALLOW_PRIVATE_NETWORK": True,
        },
        name="legacy",
    )
    policy = translation.policy
    assert policy["name"] == "legacy"
    assert policy["allowed_origins"] == ["https://app.example.com", "http://localhost:3000", "null"]
    assert policy["allowed_origin_regexes"] == [r"^https://\w+\.example\.org$"]
    assert policy["path_pattern"] == r"^/api/.*$"
    assert policy["allowed_methods"] == ["GET", "POST", "PUT"]
    assert policy["allowed_headers"] == ["content-type", "x-token"]
    assert policy["expose_headers"] == ["x-total-count"]
    assert (policy["max_age"], policy["allow_credentials"], policy["allow_private_network"]) == (600, True, True)
    assert translation.sources["allowed_origins"] == "CORS_ALLOWED_ORIGINS"
    assert translation.notes == []


def test_old_names_are_read_when_the_new_ones_are_absent() -> None:
    translation = translate(
        {
            "CORS_ORIGIN_WHITELIST": ["https://old.example.com"],
            "CORS_ORIGIN_REGEX_WHITELIST": [r"^https://x\.example\.com$"],
        }
    )
    assert translation.policy["allowed_origins"] == ["https://old.example.com"]
    assert translation.policy["allowed_origin_regexes"] == [r"^https://x\.example\.com$"]
    assert translation.sources["allowed_origins"] == "CORS_ORIGIN_WHITELIST (the old name of CORS_ALLOWED_ORIGINS)"
    assert translate({"CORS_ORIGIN_ALLOW_ALL": True}).policy["allowed_origins"] == ["*"]


def test_the_new_name_wins_over_the_old_one_as_in_django_cors_headers() -> None:
    translation = translate(
        {"CORS_ALLOWED_ORIGINS": ["https://new.example.com"], "CORS_ORIGIN_WHITELIST": ["https://old.example.com"]}
    )
    assert translation.policy["allowed_origins"] == ["https://new.example.com"]
    assert translate({"CORS_ALLOW_ALL_ORIGINS": False, "CORS_ORIGIN_ALLOW_ALL": True}).policy["allowed_origins"] == []


def test_all_origins_without_credentials_is_star() -> None:
    translation = translate({"CORS_ALLOW_ALL_ORIGINS": True, "CORS_ALLOWED_ORIGINS": ["https://a.example.com"]})
    assert translation.policy["allowed_origins"] == ["*"]
    assert translation.policy["allowed_origin_regexes"] == []
    assert translation.sources["allowed_origins"] == "CORS_ALLOW_ALL_ORIGINS"
    assert translation.notes == [
        "CORS_ALLOWED_ORIGINS is ignored: CORS_ALLOW_ALL_ORIGINS allows every origin, in django-cors-headers too."
    ]


def test_all_origins_with_credentials_is_refused_with_a_safe_policy() -> None:
    with pytest.raises(UnsafeSettings) as info:
        translate({"CORS_ORIGIN_ALLOW_ALL": True, "CORS_ALLOW_CREDENTIALS": True})
    message = str(info.value)
    assert message.startswith(
        "CORS_ORIGIN_ALLOW_ALL = True with CORS_ALLOW_CREDENTIALS = True: django-cors-headers then echoes every "
        "Origin with Access-Control-Allow-Credentials: true, so any web page can read your users' data"
    )
    assert message.endswith("A safe policy (any origin, without credentials):")
    suggestion = info.value.suggestion
    assert (suggestion["allowed_origins"], suggestion["allow_credentials"]) == (["*"], False)


def test_all_origins_with_credentials_suggests_the_listed_origins_when_there_are_some() -> None:
    with pytest.raises(UnsafeSettings) as info:
        translate(
            {
                "CORS_ALLOW_ALL_ORIGINS": True,
                "CORS_ALLOW_CREDENTIALS": True,
                "CORS_ALLOWED_ORIGINS": ["https://app.example.com"],
            }
        )
    assert str(info.value).endswith(
        "A safe policy from the origins CORS_ALLOWED_ORIGINS already lists (credentials kept):"
    )
    suggestion = info.value.suggestion
    assert (suggestion["allowed_origins"], suggestion["allow_credentials"]) == (["https://app.example.com"], True)


URL_REGEXES = [
    r"^/api/",
    r"/api/",
    r"^/api/.*$",
    r"^/(api|v2)/",
    r"/a|/b",
    r"(?i)^/API/",
    re.compile(r"^/API/", re.IGNORECASE),
]
PATHS = ["/api/", "/api/x", "/API/x", "/apix", "/v2/x", "/a", "/b/c", "/x/api/", "/api/12", "/", "/api/x\n"]


@pytest.mark.parametrize("regex", URL_REGEXES, ids=str)
def test_cors_urls_regex_covers_the_same_paths(regex: Any) -> None:
    """django-cors-headers: re.match(CORS_URLS_REGEX, path_info); the policy: its path pattern (run by RE2,
    whose $ matches only at the very end, never before a final newline as Python's does)."""
    policy_set = PolicySet.build([PolicySpec(id=1, name="p", path_pattern=path_pattern(regex))])
    assert len(policy_set) == 1
    for path in PATHS:
        python = bool(re.match(regex, path)) and not (path.endswith("\n") and str(regex).endswith("$"))
        assert (policy_set.match(path) is not None) == python, path


def test_a_verbose_cors_urls_regex_is_refused_by_re2() -> None:
    """RE2 has no verbose mode: the policy is refused with what to write, rather than matched differently."""
    pattern = path_pattern(re.compile(r"/ api / \d+  # an id", re.VERBOSE))
    built = PolicySet.build([PolicySpec(id=1, name="p", path_pattern=pattern)])
    assert len(built) == 0
    assert "verbose mode (?x) is not supported: remove the spaces and comments" in built.errors[0]


@pytest.mark.parametrize(
    ("regex", "pattern"),
    [
        (r"^.*$", "/**"),
        (r"^/api/", r"^/api/"),
        (r"/api/", r"^/api/"),
        (r"/a|/b", r"^(?:/a|/b)"),
        (r"(?i)^/API/", r"^(?i:^/API/)"),
        (re.compile(r"^/API/", re.I | re.M), r"^(?im:^/API/)"),
    ],
    ids=str,
)
def test_cors_urls_regex_reads_as_written(regex: Any, pattern: str) -> None:
    assert path_pattern(regex) == pattern


def test_origin_regexes_keep_their_flags_and_must_match_the_whole_origin() -> None:
    translation = translate(
        {
            "CORS_ALLOWED_ORIGIN_REGEXES": [
                re.compile(r"^https://\w+\.EXAMPLE\.com$", re.I),
                r"^https://\w+\.example\.net",
            ]
        }
    )
    assert translation.policy["allowed_origin_regexes"] == [
        r"(?i:^https://\w+\.EXAMPLE\.com$)",
        r"^https://\w+\.example\.net",
    ]
    assert translation.notes == [
        r"The origin regex '^https://\\w+\\.example\\.net' must now match the whole Origin: django-cors-headers "
        "only required it to match the start, so it also allowed look-alikes such as "
        "https://app.example.com.evil.net."
    ]


def test_file_origin_is_dropped_with_a_note() -> None:
    translation = translate({"CORS_ALLOWED_ORIGINS": ["file://", "https://a.example.com"]})
    assert translation.policy["allowed_origins"] == ["https://a.example.com"]
    assert translation.notes[0].startswith("The origin 'file://' (Chrome on Android's file: pages) is dropped")


def test_max_age_zero_sends_no_header() -> None:
    translation = translate({"CORS_PREFLIGHT_MAX_AGE": 0, "CORS_ORIGIN_ALLOW_ALL": True})
    assert translation.policy["max_age"] is None
    assert translation.notes == [
        "CORS_PREFLIGHT_MAX_AGE is 0: no Access-Control-Max-Age is sent, as before (browsers then cache a "
        "preflight for 5 seconds)."
    ]


def test_lower_case_standard_methods_are_noted() -> None:
    translation = translate({"CORS_ALLOW_METHODS": ["get", "delete", "patch"], "CORS_ORIGIN_ALLOW_ALL": True})
    assert translation.policy["allowed_methods"] == ["get", "delete", "patch"]  # the model upper-cases
    assert translation.notes == [
        "The method 'get' becomes 'GET': browsers always send it in upper case and compare case-sensitively, "
        "so django-cors-headers' 'get' never matched.",
        "The method 'delete' becomes 'DELETE': browsers always send it in upper case and compare "
        "case-sensitively, so django-cors-headers' 'delete' never matched.",
    ]


def test_star_with_credentials_is_noted() -> None:
    translation = translate(
        {
            "CORS_ALLOWED_ORIGINS": ["https://a.example.com"],
            "CORS_ALLOW_CREDENTIALS": True,
            "CORS_ALLOW_METHODS": ["*"],
            "CORS_ALLOW_HEADERS": ["*", "authorization"],
        }
    )
    assert translation.notes == [
        "'*' in CORS_ALLOW_METHODS with credentials: browsers read it literally from django-cors-headers (so it "
        "allowed nothing beyond the safelisted); here it allows any method, as was surely meant.",
        "'*' in CORS_ALLOW_HEADERS with credentials: browsers read it literally from django-cors-headers (so it "
        "allowed nothing beyond the safelisted); here it allows any header except Authorization, as was surely "
        "meant.",
    ]


def test_star_headers_without_authorization_is_noted() -> None:
    translation = translate({"CORS_ORIGIN_ALLOW_ALL": True, "CORS_ALLOW_HEADERS": ["*"]})
    assert translation.notes == [
        "'*' in CORS_ALLOW_HEADERS does not cover Authorization here (the Fetch standard's rule, which Firefox "
        "follows and Chromium does not): add 'authorization' to the list if pages send it."
    ]


def test_signal_receivers_and_removed_settings_are_noted() -> None:
    translation = translate(
        {"CORS_ORIGIN_ALLOW_ALL": True, "CORS_MODEL": "app.Model", "CORS_REPLACE_HTTPS_REFERER": True},
        signal_receivers=True,
    )
    assert translation.notes == [
        "django-cors-headers' check_request_enabled signal has receivers, which may enable CORS on more paths "
        "than CORS_URLS_REGEX: cors_policies has no such signal, so add a policy for those paths.",
        "CORS_MODEL is ignored: django-cors-headers removed it (and refuses to start with it).",
        "CORS_REPLACE_HTTPS_REFERER is ignored: django-cors-headers removed it (and refuses to start with it).",
    ]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"CORS_ALLOW_METHODS": "GET"},
            "CORS_ALLOW_METHODS is the string 'GET'; write a list, such as ['GET', 'POST'] (django-cors-headers "
            "would read a string letter by letter).",
        ),
        ({"CORS_EXPOSE_HEADERS": None}, "CORS_EXPOSE_HEADERS is None; write a list, such as ['x-total-count']."),
        ({"CORS_ALLOW_CREDENTIALS": 1}, "CORS_ALLOW_CREDENTIALS is 1; write True or False."),
        ({"CORS_ORIGIN_ALLOW_ALL": "yes"}, "CORS_ORIGIN_ALLOW_ALL is 'yes'; write True or False."),
        (
            {"CORS_URLS_REGEX": re.compile(rb"^/api/")},
            "CORS_URLS_REGEX has the bytes pattern b'^/api/'; write it as text (r'...').",
        ),
        (
            {"CORS_ORIGIN_REGEX_WHITELIST": [42]},
            "CORS_ORIGIN_REGEX_WHITELIST has 42; write a regular expression as text, such as r'^/api/'.",
        ),
    ],
)
def test_values_of_the_wrong_type_are_refused_by_name(values: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError) as info:
        translate(values)
    assert str(info.value) == message
