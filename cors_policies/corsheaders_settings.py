"""django-cors-headers' settings, translated into one equivalent policy (``manage.py cors_import_settings``).

Pure: settings values in (a mapping holding only the names the project defines, since an old alias counts
only when the new name is absent), a policy document entry out, with where each field came from and
notes on every place where the behaviour changes. No Django, no database: the command validates the
result as a policy document (:mod:`cors_policies.services.documents`) and writes it (:mod:`cors_policies.sync`).
Named for what it translates, not ``corsheaders`` (the package's own import name); that old path is a shim.

The defaults are django-cors-headers 4.x's (``corsheaders/conf.py`` and ``corsheaders/defaults.py``);
``tests/test_corsheaders_settings.py`` compares them with the installed package. What it does and this app does
not, the translation refuses (any origin with credentials) or notes (the rest); the README's migration
guide lists every difference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from .engine import NORMALIZED_METHODS

__all__ = [
    "CSRF_SETTING",
    "DEFAULT_HEADERS",
    "DEFAULT_MAX_AGE",
    "DEFAULT_METHODS",
    "DEFAULT_NAME",
    "DEFAULT_URLS_REGEX",
    "REMOVED_SETTINGS",
    "SETTINGS",
    "SETTING_NAMES",
    "SettingsError",
    "Translation",
    "UnsafeSettings",
    "path_pattern",
    "regex_text",
    "translate",
]

#: django-cors-headers' defaults (corsheaders.defaults and corsheaders.conf, version 4).
DEFAULT_HEADERS: Final = ("accept", "authorization", "content-type", "user-agent", "x-csrftoken", "x-requested-with")
DEFAULT_METHODS: Final = ("DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT")
DEFAULT_MAX_AGE: Final = 86400
DEFAULT_URLS_REGEX: Final = r"^.*$"
DEFAULT_NAME: Final = "django-cors-headers"

#: (current name, old name or None, default) for every setting the middleware reads.
SETTINGS: Final[tuple[tuple[str, str | None, Any], ...]] = (
    ("CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL", False),
    ("CORS_ALLOWED_ORIGINS", "CORS_ORIGIN_WHITELIST", ()),
    ("CORS_ALLOWED_ORIGIN_REGEXES", "CORS_ORIGIN_REGEX_WHITELIST", ()),
    ("CORS_URLS_REGEX", None, DEFAULT_URLS_REGEX),
    ("CORS_ALLOW_METHODS", None, DEFAULT_METHODS),
    ("CORS_ALLOW_HEADERS", None, DEFAULT_HEADERS),
    ("CORS_EXPOSE_HEADERS", None, ()),
    ("CORS_PREFLIGHT_MAX_AGE", None, DEFAULT_MAX_AGE),
    ("CORS_ALLOW_CREDENTIALS", None, False),
    ("CORS_ALLOW_PRIVATE_NETWORK", None, False),
)
#: Django's own setting that a policy's ``csrf_trusted`` replaces (read, not django-cors-headers').
CSRF_SETTING: Final = "CSRF_TRUSTED_ORIGINS"
#: Settings django-cors-headers removed; a project that still has them gets a note.
REMOVED_SETTINGS: Final = ("CORS_MODEL", "CORS_REPLACE_HTTPS_REFERER")
#: Every name :func:`translate` looks at: read these from ``django.conf.settings`` when defined.
SETTING_NAMES: Final = (
    *(name for current, old, _ in SETTINGS for name in (current, old) if name is not None),
    *REMOVED_SETTINGS,
    CSRF_SETTING,
)

_FLAG_LETTERS: Final = ((re.ASCII, "a"), (re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"), (re.VERBOSE, "x"))
_GLOBAL_FLAGS_RE: Final = re.compile(r"\(\?([aiLmsux]+)\)")


class SettingsError(ValueError):
    """A setting of the wrong type; the message names it and says what to write instead."""


class UnsafeSettings(ValueError):
    """Settings that django-cors-headers obeys although they open a hole; ``suggestion`` is a safe policy."""

    def __init__(self, message: str, suggestion: dict[str, Any]) -> None:
        super().__init__(message)
        self.suggestion = suggestion


@dataclass
class Translation:
    """The policy (the export document's fields), where each field came from, and what changes."""

    policy: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class _Reader:
    """Reads a setting the way django-cors-headers does: the current name, else the old one, else the default."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values
        self.defaults = {current: (old, default) for current, old, default in SETTINGS}

    def get(self, name: str) -> tuple[Any, str]:
        """The value and the words for where it came from."""
        old, default = self.defaults[name]
        if name in self.values:
            return self.values[name], name
        if old is not None and old in self.values:
            return self.values[old], f"{old} (the old name of {name})"
        return default, f"{name} (not set: django-cors-headers' default)"

    def setting(self, name: str) -> str:
        """The name the project actually used, for messages."""
        old, _ = self.defaults[name]
        return old if name not in self.values and old is not None and old in self.values else name

    def flag(self, name: str) -> tuple[bool, str]:
        value, source = self.get(name)
        if not isinstance(value, bool):
            raise SettingsError(f"{self.setting(name)} is {value!r}; write True or False.")
        return value, source

    def sequence(self, name: str, example: str) -> tuple[list[Any], str]:
        value, source = self.get(name)
        if isinstance(value, (str, bytes)):
            raise SettingsError(
                f"{self.setting(name)} is the string {value!r}; write a list, such as {example} "
                "(django-cors-headers would read a string letter by letter)."
            )
        if not isinstance(value, Sequence):
            raise SettingsError(f"{self.setting(name)} is {value!r}; write a list, such as {example}.")
        return list(value), source


def _flag_letters(flags: int) -> str:
    return "".join(letter for flag, letter in _FLAG_LETTERS if flags & flag)


def regex_text(value: Any, setting: str) -> str:
    """A regex setting (text or compiled) as text that means the same when compiled without flags.

    A compiled pattern's flags, and global flags such as ``(?i)`` at its start, become a scoped group
    ``(?i:...)``, which can follow the ``^`` a path pattern needs.
    """
    if isinstance(value, re.Pattern):
        if not isinstance(value.pattern, str):
            raise SettingsError(f"{setting} has the bytes pattern {value.pattern!r}; write it as text (r'...').")
        text, letters = value.pattern, _flag_letters(value.flags)
    elif isinstance(value, str):
        text, letters = value, ""
    else:
        raise SettingsError(f"{setting} has {value!r}; write a regular expression as text, such as r'^/api/'.")
    while (match := _GLOBAL_FLAGS_RE.match(text)) is not None:
        text = text[match.end() :]
        letters += match.group(1)
    letters = "".join(dict.fromkeys(letters.replace("u", "")))  # (?u) is the default for text patterns
    if not letters:
        return text
    # In verbose mode a trailing comment would swallow the closing parenthesis: end it with a newline.
    return f"(?{letters}:{text}\n)" if "x" in letters else f"(?{letters}:{text})"


def path_pattern(value: Any) -> str:
    """CORS_URLS_REGEX (``re.match`` on ``path_info``) as a path pattern: ``/**`` for the default."""
    text = regex_text(value, "CORS_URLS_REGEX")
    if text == DEFAULT_URLS_REGEX:
        return "/**"
    if text.startswith("^"):
        return text
    # re.match only tries the start of the path, so a leading '^' changes nothing but is what marks a
    # pattern as a regex here; a group keeps 'a|b' whole.
    return f"^(?:{text})" if "|" in text else f"^{text}"


def translate(values: Mapping[str, Any], *, name: str = DEFAULT_NAME, signal_receivers: bool = False) -> Translation:
    """One policy equivalent to django-cors-headers under ``values`` (the settings the project defines).

    Raises :class:`UnsafeSettings` for any origin with credentials (django-cors-headers then echoes
    every Origin with ``Access-Control-Allow-Credentials: true``), :class:`SettingsError` for a value of
    the wrong type. Values of the right type are copied as written: the model's validators judge them.
    ``signal_receivers``: django-cors-headers' ``check_request_enabled`` signal has receivers.
    """
    reader = _Reader(values)
    notes: list[str] = []
    sources: dict[str, str] = {}

    allow_all, allow_all_source = reader.flag("CORS_ALLOW_ALL_ORIGINS")
    credentials, sources["allow_credentials"] = reader.flag("CORS_ALLOW_CREDENTIALS")
    private_network, sources["allow_private_network"] = reader.flag("CORS_ALLOW_PRIVATE_NETWORK")
    origins, origins_source = reader.sequence("CORS_ALLOWED_ORIGINS", "['https://app.example.com']")
    raw_regexes, regexes_source = reader.sequence("CORS_ALLOWED_ORIGIN_REGEXES", r"[r'^https://\w+\.example\.com$']")
    regexes_setting = reader.setting("CORS_ALLOWED_ORIGIN_REGEXES")
    regexes = [regex_text(regex, regexes_setting) for regex in raw_regexes]
    urls_regex, sources["path_pattern"] = reader.get("CORS_URLS_REGEX")
    methods, sources["allowed_methods"] = reader.sequence("CORS_ALLOW_METHODS", "['GET', 'POST']")
    headers, sources["allowed_headers"] = reader.sequence("CORS_ALLOW_HEADERS", "['content-type']")
    expose, sources["expose_headers"] = reader.sequence("CORS_EXPOSE_HEADERS", "['x-total-count']")
    max_age, sources["max_age"] = reader.get("CORS_PREFLIGHT_MAX_AGE")

    policy: dict[str, Any] = {
        "name": name,
        "description": "Imported from the django-cors-headers settings by manage.py cors_import_settings.",
        "path_pattern": path_pattern(urls_regex),
        "priority": 0,
        "enabled": True,
        "allowed_origins": [],
        "allowed_origin_regexes": [],
        "allowed_methods": methods,
        "allowed_headers": headers,
        "expose_headers": expose,
        "allow_credentials": credentials,
        # django-cors-headers sends no Access-Control-Max-Age for 0 (nor None): neither does an empty max_age.
        "max_age": None if max_age in (0, None) and not isinstance(max_age, bool) else max_age,
        "allow_private_network": private_network,
        "csrf_trusted": False,
    }
    if allow_all:
        if credentials:
            raise _unsafe(reader, policy, origins, regexes)
        policy["allowed_origins"] = ["*"]
        sources["allowed_origins"] = allow_all_source
        sources["allowed_origin_regexes"] = allow_all_source
        ignored = [
            reader.setting(n)
            for n, v in (("CORS_ALLOWED_ORIGINS", origins), ("CORS_ALLOWED_ORIGIN_REGEXES", regexes))
            if v
        ]
        if ignored:
            notes.append(
                f"{' and '.join(ignored)} {'is' if len(ignored) == 1 else 'are'} ignored: "
                f"{reader.setting('CORS_ALLOW_ALL_ORIGINS')} allows every origin, in django-cors-headers too."
            )
    else:
        policy["allowed_origins"], policy["allowed_origin_regexes"] = _origins(origins, regexes, notes)
        sources["allowed_origins"] = origins_source
        sources["allowed_origin_regexes"] = regexes_source
        for raw, regex in zip(raw_regexes, regexes, strict=True):
            if not (raw.pattern if isinstance(raw, re.Pattern) else raw).rstrip().endswith(("$", r"\Z")):
                notes.append(
                    f"The origin regex {regex!r} must now match the whole Origin: django-cors-headers only required "
                    "it to match the start, so it also allowed look-alikes such as https://app.example.com.evil.net."
                )
    if not allow_all and not policy["allowed_origins"] and not policy["allowed_origin_regexes"]:
        notes.append(
            f"No origin is allowed: neither {reader.setting('CORS_ALLOWED_ORIGINS')} nor {regexes_setting} lists "
            "one, as in django-cors-headers. Add origins to the policy (or to the settings, then run the command "
            "again)."
        )
    _csrf_trust(values, policy, sources, notes)
    notes.extend(_method_notes(methods))
    if credentials:
        for what, items in (("CORS_ALLOW_METHODS", methods), ("CORS_ALLOW_HEADERS", headers)):
            if "*" in items:
                notes.append(
                    f"'*' in {what} with credentials: browsers read it literally from django-cors-headers "
                    "(so it allowed nothing beyond the safelisted); here it allows any "
                    f"{'method' if what == 'CORS_ALLOW_METHODS' else 'header except Authorization'}, "
                    "as was surely meant."
                )
    if "*" in headers and not any(isinstance(h, str) and h.strip().lower() == "authorization" for h in headers):
        notes.append(
            "'*' in CORS_ALLOW_HEADERS does not cover Authorization here (the Fetch standard's rule, which "
            "Firefox follows and Chromium does not): add 'authorization' to the list if pages send it."
        )
    if max_age in (0, None) and not isinstance(max_age, bool):
        notes.append(
            f"CORS_PREFLIGHT_MAX_AGE is {max_age!r}: no Access-Control-Max-Age is sent, as before "
            "(browsers then cache a preflight for 5 seconds)."
        )
    if signal_receivers:
        notes.append(
            "django-cors-headers' check_request_enabled signal has receivers, which may enable CORS on more "
            "paths than CORS_URLS_REGEX: cors_policies has no such signal, so add a policy for those paths."
        )
    for removed in REMOVED_SETTINGS:
        if removed in values:
            notes.append(f"{removed} is ignored: django-cors-headers removed it (and refuses to start with it).")
    return Translation(policy, sources, notes)


def _origins(origins: list[Any], regexes: list[str], notes: list[str]) -> tuple[list[Any], list[str]]:
    kept = []
    for origin in origins:
        if origin == "file://":
            notes.append(
                "The origin 'file://' (Chrome on Android's file: pages) is dropped: it is not a serialized "
                "origin, so no policy can match it; other browsers send 'null' for file: pages."
            )
            continue
        kept.append(origin)
    return kept, regexes


def _origin_key(origin: str) -> tuple[str, str, str] | None:
    """(scheme, host, port) of an origin or a ``scheme://*.domain`` wildcard, lower case; None if neither."""
    scheme, sep, authority = origin.strip().lower().partition("://")
    if not sep or not authority or "/" in authority:
        return None
    host, colon, port = authority.rpartition(":")
    if not colon or not port.isdigit():  # no port, or the colons of an IPv6 address
        host, port = authority, ""
    if port == {"http": "80", "https": "443"}.get(scheme):
        port = ""
    return scheme, host, port


def _csrf_covers(trusted: list[str], origin: str) -> bool:
    """Whether Django's CSRF check trusts ``origin`` (an allowed origin or wildcard) under ``trusted``."""
    key = _origin_key(origin)
    if key is None:
        return False
    scheme, host, port = key
    for entry in trusted:
        other = _origin_key(entry)
        if other is None or other[0] != scheme or other[2] != port:
            continue
        if other[1] == host:
            return True
        if other[1].startswith("*.") and host.endswith(other[1][1:]) and not host.startswith("*."):
            return True
    return False


def _csrf_trust(values: Mapping[str, Any], policy: dict[str, Any], sources: dict[str, str], notes: list[str]) -> None:
    """``csrf_trusted`` when Django's CSRF_TRUSTED_ORIGINS already trusts every origin the policy allows (with
    credentials, without regexes): the policy then says what the setting said, live."""
    trusted = values.get(CSRF_SETTING) or []
    if isinstance(trusted, (str, bytes)) or not isinstance(trusted, Sequence):
        raise SettingsError(f"{CSRF_SETTING} is {trusted!r}; write a list, such as ['https://app.example.com'].")
    trusted = [entry for entry in trusted if isinstance(entry, str)]
    if not trusted:
        return
    sources["csrf_trusted"] = CSRF_SETTING
    origins = [o for o in policy["allowed_origins"] if isinstance(o, str)]
    if (
        policy["allow_credentials"]
        and origins
        and not policy["allowed_origin_regexes"]
        and "*" not in origins
        and "null" not in origins
        and all(_csrf_covers(trusted, origin) for origin in origins)
    ):
        policy["csrf_trusted"] = True
        notes.append(
            f"{CSRF_SETTING} lists every allowed origin, so the policy is CSRF-trusted: with "
            "'cors_policies.csrf.CsrfViewMiddleware' in place of 'django.middleware.csrf.CsrfViewMiddleware', "
            f"Django's CSRF check reads that trust live from the policy, and those origins can leave {CSRF_SETTING}."
        )
        return
    notes.append(
        f"csrf_trusted stays off: {CSRF_SETTING} does not trust every allowed origin of a credentialed policy "
        "without regexes, '*' or 'null' (CSRF trust is all or nothing per policy). Keep "
        f"{CSRF_SETTING}: Django's CSRF check reads it as before."
    )


def _method_notes(methods: list[Any]) -> list[str]:
    notes = []
    for method in methods:
        if isinstance(method, str) and method != method.upper() and method.strip().upper() in NORMALIZED_METHODS:
            notes.append(
                f"The method {method!r} becomes {method.strip().upper()!r}: browsers always send it in upper "
                f"case and compare case-sensitively, so django-cors-headers' {method!r} never matched."
            )
    return notes


def _unsafe(reader: _Reader, policy: dict[str, Any], origins: list[Any], regexes: list[str]) -> UnsafeSettings:
    allow_all = reader.setting("CORS_ALLOW_ALL_ORIGINS")
    listed = reader.setting("CORS_ALLOWED_ORIGINS")
    message = (
        f"{allow_all} = True with CORS_ALLOW_CREDENTIALS = True: django-cors-headers then echoes every Origin "
        "with Access-Control-Allow-Credentials: true, so any web page can read your users' data with their "
        "cookies. This is not copied. Either list the origins that need credentials in "
        f"{listed} (or {reader.setting('CORS_ALLOWED_ORIGIN_REGEXES')}) and set {allow_all} = False, or set "
        "CORS_ALLOW_CREDENTIALS = False to allow every origin without cookies; then run cors_import_settings "
        "again."
    )
    kept_origins, kept_regexes = _origins(origins, regexes, [])
    if kept_origins or kept_regexes:
        suggestion = {**policy, "allowed_origins": kept_origins, "allowed_origin_regexes": kept_regexes}
        message += f" A safe policy from the origins {listed} already lists (credentials kept):"
    else:
        suggestion = {**policy, "allowed_origins": ["*"], "allow_credentials": False}
        message += " A safe policy (any origin, without credentials):"
    return UnsafeSettings(message, suggestion)
