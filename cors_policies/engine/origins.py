"""Origins: the entries an operator writes in ``allowed_origins`` (parsed, normalized, wildcards checked
against the Public Suffix List) and the Origin a browser sends (accepted only in its exact serialization)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Final

from publicsuffixlist import PublicSuffixList

from .limits import MAX_ORIGIN_LENGTH

__all__ = [
    "DEFAULT_PORTS",
    "OriginEntry",
    "OriginError",
    "parse_origin_entry",
    "parse_request_origin",
    "public_suffixes",
]

DEFAULT_PORTS: Final = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}

# A serialized origin as browsers send it: lower-case scheme and host, no default port, nothing else.
# Host: DNS-ish labels (letters, digits, '-', '_'), an IPv4 address, or a bracketed IPv6 address.
_LABEL: Final = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST: Final = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])"
_REQUEST_ORIGIN_RE: Final = re.compile(rf"([a-z][a-z0-9+.\-]*)://({_HOST})(?::([0-9]{{1,5}}))?")
# What an operator may type: any case, explicit default ports; normalized before storing.
# Whitespace (``str.isspace``: RE's ``\s`` for text is the same test) and control characters, in one C scan.
_SPACE_OR_CONTROL_RE: Final = re.compile(r"[\s\x00-\x1f\x7f]")
_ENTRY_ORIGIN_RE: Final = re.compile(
    r"([A-Za-z][A-Za-z0-9+.\-]*)://(\*\.)?([A-Za-z0-9_.\-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?"
)


class OriginError(ValueError):
    """An origin entry that cannot be used; the message says what to write instead."""


@dataclass(frozen=True, slots=True)
class OriginEntry:
    """One parsed entry of ``allowed_origins``.

    ``kind`` is ``"any"`` (``*``), ``"null"``, ``"exact"`` or ``"wildcard"``; ``value`` is the normalized
    text stored in the database. For wildcards, ``scheme``, ``domain`` and ``port`` hold the parts.
    """

    kind: str
    value: str
    scheme: str = ""
    domain: str = ""
    port: str = ""


def _normalize_port(scheme: str, port: str | None, raw: str) -> str:
    if port is None:
        return ""
    number = int(port)
    if number > 65535:
        raise OriginError(
            f"{raw!r} has port {number}; a port is a number from 0 to 65535, such as {scheme}://localhost:8443."
        )
    if DEFAULT_PORTS.get(scheme) == number:
        return ""  # browsers omit the default port, so the stored origin must too
    return str(number)


def _validate_host(host: str, raw: str) -> None:
    if host.startswith("["):
        return
    labels = host.split(".")
    if any(label == "" for label in labels):
        raise OriginError(
            f"{raw!r} has an empty label in its host; write a host such as app.example.com "
            "(no leading, trailing or double dots)."
        )
    for label in labels:
        if label.startswith("-") or label.endswith("-") or len(label) > 63:
            raise OriginError(
                f"{raw!r} has an invalid host label {label!r}; labels are 1-63 letters, digits or "
                "hyphens and do not start or end with a hyphen."
            )


def parse_origin_entry(raw: str) -> OriginEntry:
    """Parse and normalize one ``allowed_origins`` entry, or raise :class:`OriginError`.

    Accepted: ``*``; ``null``; ``scheme://host[:port]`` (any scheme); ``scheme://*.domain[:port]``.
    Scheme and host are lower-cased and a default port is dropped, because that is how browsers
    serialize the Origin they send and the match is byte-for-byte.
    """
    if not isinstance(raw, str):
        raise OriginError(f"{raw!r} is not text; write an origin such as https://app.example.com.")
    text = raw.strip()
    if text == "":
        raise OriginError(
            "An empty origin matches nothing; remove the line or write an origin such as https://app.example.com."
        )
    if text == "*":
        return OriginEntry("any", "*")
    if text.lower() == "null":
        return OriginEntry("null", "null")
    if _SPACE_OR_CONTROL_RE.search(text):
        raise OriginError(
            f"{raw!r} contains spaces or control characters; write one origin per entry, such as https://app.example.com."
        )
    if "," in text:
        raise OriginError(
            f"{raw!r} contains several origins; write one origin per entry, such as https://app.example.com."
        )
    if "://" not in text:
        host_guess = text.lstrip("/").split("/", 1)[0] or "app.example.com"
        raise OriginError(f"{raw!r} has no scheme; write the full origin, such as https://{host_guess}.")
    scheme_part, _, rest = text.partition("://")
    if "@" in rest:
        after = rest.rsplit("@", 1)[1].split("/", 1)[0] or "app.example.com"
        raise OriginError(
            f"{raw!r} contains user info ('user@'); an origin is only scheme://host[:port], so write "
            f"{scheme_part.lower()}://{after.lower()}."
        )
    for sep, what in (("/", "a path"), ("?", "a query"), ("#", "a fragment")):
        if sep in rest:
            host_part = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
            raise OriginError(
                f"{raw!r} contains {what}; an origin is only scheme://host[:port], so write "
                f"{scheme_part.lower()}://{host_part.lower()} (browsers send no trailing slash)."
            )
    if rest == "":
        raise OriginError(f"{raw!r} has no host; write an origin such as https://app.example.com.")
    match = _ENTRY_ORIGIN_RE.fullmatch(text)
    if match is None:
        if "*" in text:
            raise OriginError(
                f"{raw!r} uses '*' in a way that is not supported; write '*' alone for any origin, or "
                "make it the whole leftmost label of a subdomain wildcard such as https://*.example.com."
            )
        raise OriginError(f"{raw!r} is not an origin; write scheme://host[:port], such as https://app.example.com.")
    scheme, star, host, port = match.groups()
    scheme = scheme.lower()
    host = host.lower()
    _validate_host(host, raw)
    port = _normalize_port(scheme, port, raw)
    port_suffix = f":{port}" if port else ""
    if star:
        _check_wildcard_domain(scheme, host, port_suffix, raw)
        return OriginEntry("wildcard", f"{scheme}://*.{host}{port_suffix}", scheme, host, port)
    return OriginEntry("exact", f"{scheme}://{host}{port_suffix}", scheme, host, port)


@functools.cache
def public_suffixes() -> PublicSuffixList:
    """The Public Suffix List the ``publicsuffixlist`` package ships (read once, about 0.1 s): upgrading the
    package is how the list is kept current."""
    return PublicSuffixList()


def _check_wildcard_domain(scheme: str, host: str, port_suffix: str, raw: str) -> None:
    """What follows ``*.`` must be a registrable domain or a name below one, never a public suffix (anyone
    can register a name under ``co.uk`` or get one under ``github.io``) and never an address."""
    last = host.rsplit(".", 1)[-1]
    if host.startswith("[") or last.isdigit():
        raise OriginError(
            f"{raw!r} puts a wildcard on an IP address, where '*.' would stand for other addresses' digits "
            f"(*.0.0.1 allows 127.0.0.1 and 10.0.0.1); list each address exactly, such as "
            f"{scheme}://{'[::1]' if host.startswith('[') else '127.0.0.1'}{port_suffix}."
        )
    if host == "localhost":
        return  # every name under localhost is this machine (RFC 6761)
    if public_suffixes().is_public(host):
        example = f"example.{host}" if "." in host else "example.com"
        raise OriginError(
            f"{raw!r} allows every site under {host}, a public suffix: anyone can register or be given a name "
            f"there. Write a wildcard under your own registrable domain, such as {scheme}://*.{example}{port_suffix}."
        )


def parse_request_origin(value: str) -> tuple[str, str, str] | None:
    """Split a request's Origin into (scheme, host, port), or None when it is not canonical.

    Only the exact serialization a browser sends is accepted: anything else (upper case, a default
    port, a path, several values, control characters, more than MAX_ORIGIN_LENGTH) never matches.
    """
    if len(value) > MAX_ORIGIN_LENGTH:
        return None
    match = _REQUEST_ORIGIN_RE.fullmatch(value)
    if match is None:
        return None
    scheme, host, port = match.groups()
    if port is not None:
        if port.startswith("0") or int(port) > 65535 or DEFAULT_PORTS.get(scheme) == int(port):
            return None
        return scheme, host, port
    return scheme, host, ""
