"""The budgets: what one request may cost the engine, and the longest values it reads.

SECURITY.md ("Worst case") publishes the bound these give; bench/worst_case.py searches for the worst request
at the edge of each of them.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "MAX_GLOB_STEPS",
    "MAX_ORIGIN_LENGTH",
    "MAX_ORIGIN_REGEX_PROGRAM",
    "MAX_REGEX_ORIGIN_LENGTH",
    "MAX_REGEX_PATH_LENGTH",
    "MAX_REGEX_PATH_PROGRAM",
    "MAX_REQUEST_HEADERS_LENGTH",
    "MAX_REQUEST_HEADER_NAMES",
]

#: Longest Origin header we look at; anything longer is malformed and never matches or echoes.
MAX_ORIGIN_LENGTH: Final = 2048
#: Longest Access-Control-Request-Headers value we parse (browsers cap safelisted values far lower).
MAX_REQUEST_HEADERS_LENGTH: Final = 8192
#: Most comma-separated entries of Access-Control-Request-Headers we read: each costs a step, and a page's
#: request cannot carry that many header fields anyway (gunicorn refuses more than 100, Django's test
#: server and nginx far fewer in practice). More is malformed, as a value over the length above is.
MAX_REQUEST_HEADER_NAMES: Final = 128

# The bound on what one request costs (SECURITY.md, "Worst case"; bench/worst_case.py). RE2 runs in linear
# time, but the time per byte is not fixed: a byte can make its automaton build a new state (one whose
# cache it has never needed: a regex can be written so that every byte of a crafted text does), and a
# state costs as many steps as the program has instructions. A request's regex work is therefore bounded
# by the bytes each automaton reads times the instructions it holds, and both are capped here.

#: Longest path (in UTF-8 bytes: characters, for an ASCII path) that regex path patterns read. A longer
#: path is matched by literal and glob patterns only; when a regex policy could outrank what they find,
#: no policy applies to it (refused, rather than answered by a policy that might not be the right one).
MAX_REGEX_PATH_LENGTH: Final = 256
#: RE2 instructions (:func:`~cors_policies.regex.program_size`) of every regex path pattern, and every glob
#: with '**' in more than one place (matched by the same automaton), of the enabled policies together,
#: enforced and report-only alike: one pass over the path runs them all.
MAX_REGEX_PATH_PROGRAM: Final = 160
#: Longest Origin that origin regexes read: a serialized origin with a DNS name (253 characters at most)
#: fits. A longer Origin is matched by exact origins and wildcards only.
MAX_REGEX_ORIGIN_LENGTH: Final = 300
#: RE2 instructions of one policy's origin regexes together: a request to its paths runs them all.
MAX_ORIGIN_REGEX_PROGRAM: Final = 100
#: Most trie nodes one path can visit among the globs of the enabled policies (enforced and report-only
#: together). Globs are matched segment by segment without RE2; what grows the count is '*' where other
#: globs have a literal segment, since a path then follows both (see :class:`~cors_policies.engine.trie._Node`).
MAX_GLOB_STEPS: Final = 512
