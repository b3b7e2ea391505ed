"""The policy engine: plain data in, a :class:`Decision` out.

Nothing here imports Django. The middleware, the admin tester, the API's evaluate endpoint and the
command line all call :func:`decide` with a :class:`RequestInfo`, so they can never disagree. Everything that can be
prepared ahead of a request (matchers, header strings, indexes) is prepared in :meth:`PolicySet.build`;
the per-request work is dictionary look-ups and at most a few precompiled regex matches.

One job per module: :mod:`.limits` (the budgets), :mod:`.reasons` (reason codes, verdicts and pattern
kinds, with their labels), :mod:`.tokens` (the HTTP grammar), :mod:`.origins`,
:mod:`.paths` (path patterns), :mod:`.trie` (the glob trie), :mod:`.policy` (specs and compiled policies),
:mod:`.decision` (decisions and refusals), :mod:`.protocol` (what one policy answers one request),
:mod:`.index` (the indexes a set is built into, within the budgets), :mod:`.decide` (the one entry point)
and :mod:`.policy_set`. This package
re-exports the names other modules use, so ``from cors_policies.engine import X`` keeps working.

The rules are the WHATWG Fetch standard's CORS protocol: https://fetch.spec.whatwg.org/#http-cors-protocol
"""

from __future__ import annotations

from .decide import RequestInfo, decide
from .decision import Decision, Refusal, is_preflight
from .index import path_costs
from .limits import (
    MAX_GLOB_STEPS,
    MAX_ORIGIN_LENGTH,
    MAX_ORIGIN_REGEX_PROGRAM,
    MAX_REGEX_ORIGIN_LENGTH,
    MAX_REGEX_PATH_LENGTH,
    MAX_REGEX_PATH_PROGRAM,
    MAX_REQUEST_HEADER_NAMES,
    MAX_REQUEST_HEADERS_LENGTH,
)
from .origins import (
    DEFAULT_PORTS,
    OriginEntry,
    OriginError,
    parse_origin_entry,
    parse_request_origin,
    public_suffixes,
)
from .paths import (
    KIND_GLOB,
    KIND_LITERAL,
    KIND_NAMES,
    KIND_REGEX,
    ParsedPattern,
    PatternError,
    parse_path_pattern,
    parsed_path_pattern,
    re2_escape,
)
from .policy import CompiledPolicy, PolicySpec
from .policy_set import PolicySet, beats
from .reasons import PatternKind, Reason, Verdict
from .tokens import NORMALIZED_METHODS, SAFELISTED_METHODS, is_token, parse_request_headers, printable

__all__ = [
    "DEFAULT_PORTS",
    "KIND_GLOB",
    "KIND_LITERAL",
    "KIND_NAMES",
    "KIND_REGEX",
    "MAX_GLOB_STEPS",
    "MAX_ORIGIN_LENGTH",
    "MAX_ORIGIN_REGEX_PROGRAM",
    "MAX_REGEX_ORIGIN_LENGTH",
    "MAX_REGEX_PATH_LENGTH",
    "MAX_REGEX_PATH_PROGRAM",
    "MAX_REQUEST_HEADERS_LENGTH",
    "MAX_REQUEST_HEADER_NAMES",
    "NORMALIZED_METHODS",
    "SAFELISTED_METHODS",
    "CompiledPolicy",
    "Decision",
    "OriginEntry",
    "OriginError",
    "ParsedPattern",
    "PatternError",
    "PatternKind",
    "PolicySet",
    "PolicySpec",
    "Reason",
    "Refusal",
    "RequestInfo",
    "Verdict",
    "beats",
    "decide",
    "is_preflight",
    "is_token",
    "parse_origin_entry",
    "parse_path_pattern",
    "parse_request_headers",
    "parse_request_origin",
    "parsed_path_pattern",
    "path_costs",
    "printable",
    "public_suffixes",
    "re2_escape",
]
