"""Protected paths: the Django admin and this app's own API, which no policy decorates or preflights.

A policy on ``/admin/**`` (or a ``/**`` catch-all) with credentials would let a page on another site read the
admin's pages, or write policies through the API, with a logged-in operator's cookies: the one thing a CORS
app must never make possible by one careless click. So the middleware leaves these paths alone, policies that
can only match them are refused, and policies that overlap them are saved with a warning saying those paths
are excluded.

``CORS_POLICIES["PROTECTED_PATHS"]`` lists them: each entry a URL name (reversed, so the prefix follows the
project's URLconf: ``"admin:index"`` → ``/admin/``) or a path prefix (``"/internal/"``). A prefix covers
itself without its trailing slash (``/admin``, which Django redirects) and every path below it. The default
protects the admin site and this app's API; ``[]`` protects nothing (policies then govern those paths like
any other: only if you know why). Names that do not reverse (the API not mounted) protect nothing.

The prefixes are computed once, on first use, and again when ``ROOT_URLCONF`` or ``CORS_POLICIES`` change
(tests, through ``setting_changed``; see :func:`reset`): the middleware pays a ``str.startswith`` and a set
look-up per request.
"""

from __future__ import annotations

import functools
import logging
import re
import warnings
from dataclasses import dataclass, fields
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import NoReverseMatch, get_script_prefix, reverse

from . import analysis
from .conf import conf
from .conf import is_valid_entry as is_valid_entry  # the entry syntax is the setting's, declared in conf
from .engine import (
    KIND_GLOB,
    KIND_LITERAL,
    CompiledPolicy,
    Decision,
    PatternError,
    PolicySpec,
    Reason,
    Refusal,
    parse_path_pattern,
    printable,
)

try:
    from re import _parser  # type: ignore[attr-defined]
except ImportError:  # Python 3.10
    import sre_parse as _parser

logger = logging.getLogger("cors_policies")

SETTING: Final = "CORS_POLICIES['PROTECTED_PATHS']"


@dataclass(frozen=True)
class ProtectedPath:
    """One protected prefix (ending with "/") and the setting's entry it came from."""

    prefix: str
    entry: str

    @property
    def glob(self) -> str:
        """The glob matching exactly what this protects: ``/admin/`` → ``/admin/**``."""
        return self.prefix + "**"

    def describe(self) -> str:
        return self.prefix if self.entry == self.prefix else f"{self.prefix} ({self.entry})"


@dataclass(frozen=True)
class ProtectedPaths:
    paths: tuple[ProtectedPath, ...]
    #: For the middleware: the prefixes (one ``startswith``) and the same without their slash.
    prefixes: tuple[str, ...]
    exact: frozenset[str]

    def covers(self, path: str) -> bool:
        return path.startswith(self.prefixes) or path in self.exact

    def covering(self, path: str) -> ProtectedPath | None:
        for protected in self.paths:
            if path.startswith(protected.prefix) or path == protected.prefix[:-1]:
                return protected
        return None


def _resolve(entry: str) -> str | None:
    """The path prefix an entry stands for, ending with "/", or None (a name that does not reverse)."""
    if entry.startswith("/"):
        path = entry
    else:
        try:
            url = reverse(entry)
        except NoReverseMatch:
            return None
        script = get_script_prefix()  # reverse() includes SCRIPT_NAME; request.path_info does not
        path = "/" + url[len(script) :] if url.startswith(script) else url
    path = path.split("?", 1)[0]
    if not path.endswith("/"):
        path += "/"
    if path == "/":
        logger.error("cors_policies: %s entry %r would protect every path; ignored", SETTING, entry)
        return None
    return path


def compute() -> ProtectedPaths:
    entries = conf.PROTECTED_PATHS
    found: dict[str, ProtectedPath] = {}
    if isinstance(entries, (list, tuple)):
        for entry in entries:
            if isinstance(entry, str) and (prefix := _resolve(entry)) is not None:
                found.setdefault(prefix, ProtectedPath(prefix, entry))
    paths = tuple(found.values())
    return ProtectedPaths(
        paths,
        tuple(path.prefix for path in paths),
        frozenset(path.prefix[:-1] for path in paths),
    )


#: The protected paths once computed; None before the first use and after :func:`reset`. The middleware reads
#: this attribute and calls :func:`current` only when it is None (a call costs more than the check it guards).
computed: ProtectedPaths | None = None


def current() -> ProtectedPaths:
    """The protected paths, computed on first use (a race computes the same value twice, harmlessly)."""
    global computed
    found = computed
    if found is None:
        found = computed = compute()
    return found


def reset() -> None:
    """Forget the prefixes: done on ``setting_changed`` for ROOT_URLCONF and CORS_POLICIES (override_settings);
    call it yourself after assigning ROOT_URLCONF directly, as pytest-django's ``urls`` marker does (a setting
    read per request would cost the middleware more than the rest of this check)."""
    global computed
    computed = None


@receiver(setting_changed, dispatch_uid="cors_policies_protected_paths")
def _settings_changed(setting: str, **kwargs: Any) -> None:
    if setting in ("ROOT_URLCONF", "CORS_POLICIES"):
        reset()


def is_protected(path: str) -> bool:
    """The middleware's test: one ``startswith`` and one set look-up."""
    return current().covers(path)


def decision(path: str, *, preflight: bool) -> Decision | None:
    """What the middleware does on a protected path (nothing), as the tester and the evaluate endpoint show
    it; None when ``path`` is not protected."""
    protected = current().covering(path)
    if protected is None:
        return None
    reason = (
        f"{printable(path)} is under {protected.describe()}, a protected path: no policy decorates or preflights "
        f"it, whatever the policies say ({SETTING})"
    )
    return Decision(
        None,
        preflight,
        False,
        refusals=(Refusal(Reason.PROTECTED, reason),),
        explanation=[reason[0].upper() + reason[1:] + "."],
    )


# -- what a pattern may match -------------------------------------------------------------------------


def _regex_literal_prefix(pattern: str) -> str:
    """The text every match of a ``^`` regex starts with, from its parsed form (a top-level alternation or
    anything else the parser does not know gives "")."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            parsed = _parser.parse(pattern)
    except Exception:  # a regex Python's parser refuses (RE2 syntax): no claim about its prefix
        return ""
    if parsed.state.flags & re.IGNORECASE:
        return ""  # (?i)^/admin/ also matches /ADMIN/, which is not protected (paths are case-sensitive)
    items = list(parsed)
    literal = []
    for op, value in items[1:] if items and str(items[0][0]) == "AT" else ():
        if str(op) != "LITERAL":
            break
        literal.append(chr(value))
    return "".join(literal)


def only_protected(pattern: str, paths: ProtectedPaths) -> ProtectedPath | None:
    """The protected path containing every path ``pattern`` can match, or None."""
    try:
        parsed = parse_path_pattern(pattern)
    except (PatternError, re.error, TypeError, ValueError):
        return None
    if parsed.kind == KIND_LITERAL:
        return paths.covering(pattern)
    if parsed.kind == KIND_GLOB:
        for protected in paths.paths:
            if "*" not in protected.prefix and analysis.covers(protected.glob, pattern):
                return protected
        return None
    literal = _regex_literal_prefix(pattern)
    for protected in paths.paths:
        if literal.startswith(protected.prefix):
            return protected
    return None


def overlapping(pattern: str, paths: ProtectedPaths) -> list[ProtectedPath]:
    """The protected paths ``pattern`` matches some of (regexes: judged on sample paths)."""
    try:
        compiled = CompiledPolicy(PolicySpec(id=0, name="", path_pattern=pattern))
    except Exception:  # the validators say what is wrong with it
        return []
    found = []
    for protected in paths.paths:
        if compiled.pattern.kind == KIND_GLOB and "*" not in protected.prefix:
            hit = bool(analysis.overlap(pattern, protected.glob))
        else:
            samples = (protected.prefix[:-1], protected.prefix, protected.prefix + analysis.SAMPLE_SEGMENT + "/")
            hit = any(compiled.matches_path(sample) for sample in samples)
        if hit:
            found.append(protected)
    return found


def validate_path_pattern(pattern: Any) -> None:
    """Refuse a pattern that can only match protected paths (it would never apply anywhere)."""
    if not isinstance(pattern, str):
        return
    protected = only_protected(pattern.strip(), current())
    if protected is None:
        return
    raise ValidationError(
        {
            "path_pattern": ValidationError(
                f"{pattern.strip()!r} only matches paths under {protected.describe()}, which are protected: no "
                "policy ever decorates or preflights the Django admin or this app's API, so that no other site "
                "can read them with a signed-in user's cookies. Write the pattern of the paths your front end "
                f"calls, such as /api/**; to let policies govern {protected.prefix} anyway, remove it from "
                f"{SETTING} (only if you know why).",
                code="protected_path",
            )
        }
    )


def protected_paths_warning(spec: PolicySpec) -> analysis.PolicyWarning | None:
    """The warning for a policy that overlaps protected paths: they are excluded from it."""
    found = overlapping(spec.path_pattern, current())
    if not found:
        return None
    shown = ", ".join(protected.describe() for protected in found)
    return analysis.PolicyWarning(
        "protected_paths",
        f"{spec.path_pattern} also matches {shown}: protected paths, which this policy never answers (no policy "
        f"does: {SETTING}), so the admin and this app's API stay out of other sites' reach. Nothing to do unless "
        "you meant to open them, which this app does not do for you.",
    )


#: The fields warnings may depend on (all but the id), in PolicySpec's order.
_WARNING_FIELDS: Final = tuple(f.name for f in fields(PolicySpec) if f.name != "id")


def policy_warnings(spec: PolicySpec) -> list[analysis.PolicyWarning]:
    """Everything worth a second look about a policy, as the admin and the API show it: the analysis'
    warnings and the protected paths it overlaps.

    Remembered per policy content (and protected paths): probing an origin regex costs up to a few
    milliseconds, and a list page asks for every policy on it at each view."""
    key = tuple(
        tuple(value) if isinstance(value, list) else value
        for value in (getattr(spec, name) for name in _WARNING_FIELDS)
    )
    try:
        return list(_warnings(key, current()))
    except TypeError:  # an unhashable value (a row written around the validators): no memo
        return list(_compute_warnings(spec))


@functools.lru_cache(maxsize=4096)
def _warnings(key: tuple[Any, ...], paths: ProtectedPaths) -> tuple[analysis.PolicyWarning, ...]:
    return _compute_warnings(PolicySpec(id=0, **dict(zip(_WARNING_FIELDS, key, strict=True))))


def _compute_warnings(spec: PolicySpec) -> tuple[analysis.PolicyWarning, ...]:
    found = analysis.policy_warnings(spec)
    warning = protected_paths_warning(spec)
    return (*found, warning) if warning is not None else tuple(found)
