"""The policy set: the compiled policies of a snapshot, indexed, and asked per request which one applies
and what it answers (:class:`PolicySet`); :func:`beats` says why one policy outranks another."""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

from ..regex import encode
from .decide import RequestInfo, decide, described, raw_header_list, verdict
from .decision import Decision
from .index import _admit, _Automaton, _Part
from .limits import MAX_GLOB_STEPS, MAX_REGEX_PATH_LENGTH, MAX_REGEX_PATH_PROGRAM
from .origins import OriginError
from .paths import KIND_GLOB, KIND_NAMES, ParsedPattern, PatternError
from .policy import CompiledPolicy, PolicySpec
from .protocol import actual, preflight
from .tokens import printable
from .trie import _best_glob, _copy, _edited, _Node

__all__ = ["PolicySet", "beats"]

#: How many paths' answers a policy set remembers (see :meth:`PolicySet.match`), and the longest path it
#: remembers: at most 4,096 x 256 characters, about 1 MB, whatever the requests.
_REMEMBERED_PATHS: Final = 4096
_REMEMBERED_PATH_LENGTH: Final = 256
_UNKNOWN: Final = object()


class PolicySet:
    """An immutable, indexed set of compiled policies: build once per snapshot, evaluate per request.

    ``policies`` are the enforced ones, in precedence order. Report-only policies never take part in that
    precedence: they form a set of their own, ``report_only`` (None when there are none, so the hot path
    pays one attribute test), indexed and ordered by the same rules among themselves.

    What a path costs is bounded by construction: a literal pattern is a dictionary look-up; globs are
    matched by a trie of at most :data:`MAX_GLOB_STEPS` node visits; regex path patterns (and globs with
    '**' in several places) by one RE2 pass shared with the report-only set, over at most
    :data:`MAX_REGEX_PATH_LENGTH` bytes, of at most :data:`MAX_REGEX_PATH_PROGRAM` instructions. Policies
    beyond a budget are skipped when the set is built and reported in ``errors``.
    """

    __slots__ = (
        "_automaton",
        "_by_id",
        "_globs",
        "_literal",
        "_matched",
        "_offset",
        "_regexes",
        "_root",
        "_skipped",
        "errors",
        "policies",
        "report_only",
        "version",
    )

    def __init__(self, policies: Iterable[CompiledPolicy], version: Any = None, errors: Sequence[str] = ()) -> None:
        ordered = sorted(policies, key=lambda p: p.sort_key)
        messages = list(errors)
        enforced, reports = _admit(
            [p for p in ordered if not p.spec.report_only] + [p for p in ordered if p.spec.report_only], messages
        )
        members = [p.pattern.member for p in enforced.regexes + reports.regexes]
        automaton = _Automaton(members) if members else None
        self._index(enforced, automaton, 0, version, messages)
        #: How many policies a budget left out: a set that left none out can be edited (:meth:`updated`).
        self._skipped = len(ordered) - len(enforced.policies) - len(reports.policies)
        self.report_only: PolicySet | None = None
        if reports.policies:
            report = PolicySet.__new__(PolicySet)
            report._index(reports, automaton, len(enforced.regexes), version, ())
            report._skipped = 0
            report.report_only = None
            self.report_only = report

    def _index(self, part: _Part, automaton: _Automaton | None, offset: int, version: Any, errors: Any) -> None:
        self.policies: tuple[CompiledPolicy, ...] = tuple(part.policies)
        self.version = version
        self.errors = tuple(errors)
        self._literal = part.literal
        self._root = part.root
        self._globs = part.globs
        self._regexes = tuple(part.regexes)
        self._automaton = automaton
        self._offset = offset
        self._matched: dict[str, CompiledPolicy | None] = {}
        self._by_id: dict[int, CompiledPolicy] | None = None

    def _held(self) -> dict[int, CompiledPolicy]:
        """Every policy of the set, report-only ones too, by id: made once per set (a set made by
        :meth:`updated` gets its predecessor's, edited: copying costs a fifth of making it again)."""
        held = self._by_id
        if held is None:
            held = {policy.id: policy for policy in self.policies}
            if self.report_only is not None:
                held.update((policy.id, policy) for policy in self.report_only.policies)
            self._by_id = held
        return held

    @classmethod
    def build(cls, specs: Iterable[PolicySpec], version: Any = None) -> PolicySet:
        """Compile specs; a spec that does not compile, or that a budget has no room for, is skipped and
        reported in ``errors``."""
        compiled = []
        errors = []
        for spec in specs:
            try:
                compiled.append(CompiledPolicy(spec))
            except (PatternError, OriginError, TypeError, ValueError) as exc:
                errors.append(f"policy {spec.id} {spec.name!r} skipped: {exc}")
        return cls(compiled, version=version, errors=errors)

    def replaced(self, changed: Mapping[int, CompiledPolicy], version: Any = None) -> PolicySet | None:
        """This set with the ``changed`` policies (by id) in place of those it holds, sharing the rest of its
        index (a rebuild after one policy's origins, methods or headers changed costs microseconds, not a new
        index). None when a change would move a policy in the index (its path pattern, precedence or
        report-only flag), or names a policy this set does not hold: build a new set then."""
        report = self.report_only
        held = self._held()
        for pk, new in changed.items():
            old = held.get(pk)
            if (
                old is None
                or old.sort_key != new.sort_key
                or old.pattern.source != new.pattern.source
                or old.spec.report_only != new.spec.report_only
            ):
                return None
        swaps = [(held[pk], new) for pk, new in changed.items()]
        result = PolicySet.__new__(PolicySet)
        result._swap(self, [(old, new) for old, new in swaps if not new.spec.report_only], version, self.errors)
        result._skipped = self._skipped
        result.report_only = None
        if report is not None:
            result.report_only = PolicySet.__new__(PolicySet)
            result.report_only._swap(report, [(old, new) for old, new in swaps if new.spec.report_only], version, ())
            result.report_only._skipped = 0
            result.report_only.report_only = None
        return result

    def updated(
        self,
        changed: Mapping[int, CompiledPolicy],
        removed: Iterable[int] = (),
        version: Any = None,
        errors: Sequence[str] | None = None,
    ) -> PolicySet | None:
        """This set with the ``changed`` policies (by id: in place of those it holds, or added) and without the
        ``removed`` ids, sharing what did not change of its index: a policy that moves (its path pattern,
        precedence or report-only flag), an addition or a removal edits the literal paths and copies the trie
        nodes on its glob's way, a regex path's change makes the (budgeted) automaton again. ``errors`` replace
        the set's (the policies that did not compile); the old set, still served, is never modified.

        None when a fresh build must decide: this set left a policy out for a budget, or the result would
        exceed a budget (which policies give way depends on the whole set's order). Otherwise the result
        answers, orders and reports exactly as ``PolicySet`` built from the same policies does."""
        if self._skipped:
            return None
        report = self.report_only
        held = self._held()
        swaps: list[tuple[CompiledPolicy, CompiledPolicy]] = []
        gone = [held[pk] for pk in removed if pk in held and pk not in changed]
        added: list[CompiledPolicy] = []
        for pk, new in changed.items():
            old = held.get(pk)
            if old is None:
                added.append(new)
            elif (
                old.sort_key == new.sort_key
                and old.pattern.source == new.pattern.source
                and old.spec.report_only == new.spec.report_only
            ):
                swaps.append((old, new))
            else:
                gone.append(old)
                added.append(new)
        parts = []
        for flag, old_set in ((False, self), (True, report)):
            parts.append(
                _edited_part(
                    old_set,
                    [(held_, new) for held_, new in swaps if new.spec.report_only is flag],
                    [policy for policy in gone if bool(policy.spec.report_only) is flag],
                    [policy for policy in added if bool(policy.spec.report_only) is flag],
                )
            )
        (enforced, enforced_moved), (reports, reports_moved) = parts
        regexes = enforced.regexes + reports.regexes
        if sum(policy.program for policy in regexes) > MAX_REGEX_PATH_PROGRAM:
            return None
        steps = (enforced.root.weight if enforced.globs else 0) + (reports.root.weight if reports.globs else 0)
        if steps > MAX_GLOB_STEPS:
            return None
        automaton = self._automaton
        if enforced_moved or reports_moved:
            members = [policy.pattern.member for policy in regexes]
            automaton = _Automaton(members) if members else None
        result = PolicySet.__new__(PolicySet)
        result._index(enforced, automaton, 0, version, self.errors if errors is None else errors)
        result._skipped = 0
        result.report_only = None
        if reports.policies:
            result.report_only = PolicySet.__new__(PolicySet)
            result.report_only._index(reports, automaton, len(enforced.regexes), version, ())
            result.report_only._skipped = 0
            result.report_only.report_only = None
        by_id = dict(held)
        for policy in gone:
            del by_id[policy.id]
        by_id.update((policy.id, policy) for _, policy in swaps)
        by_id.update((policy.id, policy) for policy in added)
        result._by_id = by_id
        return result

    def _swap(
        self, old: PolicySet, swaps: list[tuple[CompiledPolicy, CompiledPolicy]], version: Any, errors: Any
    ) -> None:
        """Index as ``old`` does, with each (held, new) of ``swaps`` in place of the held policy: what is copied is
        the list of policies and the nodes on the swapped globs' way, not the index."""
        policies = list(old.policies)
        literal = dict(old._literal)
        regexes = list(old._regexes)
        root = old._root
        for held, new in swaps:
            policies[policies.index(held)] = new
            pattern = new.pattern
            if pattern.automaton:
                regexes[regexes.index(held)] = new
            elif pattern.kind == KIND_GLOB:
                root = _swapped(root, pattern, held, new)
            elif literal.get(pattern.source) is held:
                literal[pattern.source] = new
        self.policies = tuple(policies)
        self.version = version
        self.errors = tuple(errors)
        self._literal = literal
        self._root = root
        self._globs = old._globs
        self._regexes = tuple(regexes)
        self._automaton = old._automaton
        self._offset = old._offset
        self._matched = {}  # the old set's remembered answers may name a swapped-out policy
        self._by_id = None

    def __len__(self) -> int:
        return len(self.policies)

    @property
    def glob_steps(self) -> int:
        """The most trie nodes one path can visit among this set's globs (the budget's measure)."""
        return self._root.weight if self._globs else 0

    # -- matching ------------------------------------------------------------------------------

    def candidates(self, path: str) -> list[CompiledPolicy]:
        """Every policy whose pattern matches ``path``, best first (for explanations and the admin)."""
        return [p for p in self.policies if p.matches_path(path)]

    def match(self, path: str) -> CompiledPolicy | None:
        """The one policy that applies to ``path``. Its cost is bounded whatever the path and the policies:
        see the class's docstring. The answers for the last few thousand short paths are remembered (the set
        never changes, and a site's requests repeat a few paths): a dictionary look-up instead of a walk."""
        matched = self._matched
        found = matched.get(path, _UNKNOWN)  # one read: another thread may clear it, never half of it
        if found is not _UNKNOWN:
            return found  # type: ignore[return-value]
        found = self._match(path)
        if len(path) <= _REMEMBERED_PATH_LENGTH:
            if len(matched) >= _REMEMBERED_PATHS:
                matched.clear()  # attacker-chosen paths cannot grow it: start again
            matched[path] = found
        return found

    def _match(self, path: str) -> CompiledPolicy | None:
        best = self._literal.get(path)
        if self._globs:
            glob = _best_glob(self._root, path)
            if glob is not None and (best is None or glob.sort_key < best.sort_key):
                best = glob
        regexes = self._regexes
        if regexes and (best is None or regexes[0].sort_key < best.sort_key):
            assert self._automaton is not None
            found = self._automaton.matching(path)
            if found is None:
                return None  # too long to read, and a regex could outrank `best`: refused, never a guess
            offset = self._offset
            for index in found:
                if index >= offset:
                    if index - offset < len(regexes) and (
                        best is None or regexes[index - offset].sort_key < best.sort_key
                    ):
                        return regexes[index - offset]
                    break
        return best

    def unread(self, path: str) -> CompiledPolicy | None:
        """The regex policy that could apply to ``path`` but cannot read it (longer than
        :data:`MAX_REGEX_PATH_LENGTH` bytes), when that is why :meth:`match` found nothing."""
        regexes = self._regexes
        if not regexes or len(encode(path)) <= MAX_REGEX_PATH_LENGTH or self.match(path) is not None:
            return None
        return regexes[0]

    # -- evaluation ----------------------------------------------------------------------------

    def evaluate(
        self,
        *,
        origin: str | None,
        method: str,
        path: str,
        request_method: str | None = None,
        request_headers: str | Sequence[str] | None = None,
        private_network: bool = False,
        explain: bool = False,
    ) -> Decision:
        """:func:`~cors_policies.engine.decide.decide` with the request given as keywords (kept for callers
        written before :class:`~cors_policies.engine.decide.RequestInfo`); ``request_headers`` may be a list
        of names, read as the comma-joined value a browser sends."""
        request = RequestInfo(path, method, origin, request_method, raw_header_list(request_headers), private_network)
        return decide(self, request, explain=explain)

    def evaluate_report_only(
        self,
        *,
        origin: str | None,
        method: str,
        path: str,
        request_method: str | None = None,
        request_headers: str | Sequence[str] | None = None,
        private_network: bool = False,
    ) -> Decision | None:
        """The verdict of the report-only policy that covers ``path`` (same precedence rules among the
        report-only policies as among the enforced ones), or None when none does."""
        report = self.report_only
        policy = report.match(path) if report is not None else None
        if policy is None:
            return None
        request = RequestInfo(path, method, origin, request_method, raw_header_list(request_headers), private_network)
        return verdict(policy, request)

    def simulate(
        self,
        *,
        origin: str | None,
        method: str,
        path: str,
        request_headers: Sequence[str] = (),
        preflight: bool = False,
        private_network: bool = False,
    ) -> Decision:
        """:func:`~cors_policies.engine.decide.decide`, explained, for a request described in words:
        ``method`` is the method the page wants to use; ``preflight=True`` asks about the preflight the
        browser sends for it."""
        return decide(self, described(origin, method, path, request_headers, preflight, private_network), explain=True)

    def decide(
        self,
        policy: CompiledPolicy,
        *,
        origin: str | None,
        method: str,
        request_method: str | None = None,
        request_headers: str | Sequence[str] | None = None,
        private_network: bool = False,
    ) -> Decision:
        """The verdict of ``policy`` for one request, whatever its path (previews of a policy; to decide a
        request, call :func:`~cors_policies.engine.decide.decide`)."""
        if method == "OPTIONS" and origin is not None and request_method is not None:  # is_preflight, narrowed
            return preflight(policy, origin, request_method, request_headers, private_network)
        return actual(policy, origin, method)

    def explain_match(self, path: str, winner: CompiledPolicy) -> list[str]:
        """Human-readable account of why ``winner`` applies to ``path`` rather than the others."""
        lines = [
            f"Policy {winner.name!r} applies: its {KIND_NAMES[winner.pattern.kind]} {winner.pattern.source!r} "
            f"matches {printable(path)} (priority {winner.spec.priority})."
        ]
        for other in self.candidates(path):
            if other is winner:
                continue
            lines.append(f"It wins over {other.name!r} ({other.pattern.source!r}): {beats(winner, other)}.")
        return lines


def beats(winner: CompiledPolicy, other: CompiledPolicy) -> str:
    """Why ``winner`` takes precedence over ``other``, in words (the tester and shadowing warnings)."""
    w, o = winner.sort_key, other.sort_key
    if w[0] != o[0]:
        return f"higher priority ({winner.spec.priority} > {other.spec.priority})"
    if w[1] != o[1]:
        return f"a {KIND_NAMES[w[1]]} is more specific than a {KIND_NAMES[o[1]]}"
    if w[2] != o[2]:
        return f"more literal segments ({-w[2]} > {-o[2]})"
    if w[3] != o[3]:
        return "'*' is more specific than '**'"
    return f"equal precedence, and the lower id wins ({winner.id} < {other.id})"


def _swapped(root: _Node, pattern: ParsedPattern, held: CompiledPolicy, new: CompiledPolicy) -> _Node:
    """A copy of the trie ``root`` where ``new`` stands for ``held`` on ``pattern``'s way: the nodes on that way
    are copied, every other node is shared (the old set, still served, is never modified)."""
    top = node = _copy(root)
    segments: list[tuple[str, ...]] = [pattern.tokens]
    if pattern.tail is not None:
        segments.append(pattern.tail[::-1])
    for depth, parts in enumerate(segments):
        if depth:  # down into the suffix trie of the globs with a '**' here
            assert node.tails is not None
            node.tails = node = _copy(node.tails)
        for part in parts:
            if part == "*":
                assert node.star is not None
                node.star = node = _copy(node.star)
            else:
                node.children[part] = node = _copy(node.children[part])
    if node.end is held:
        node.end = new
    if node.rest is held:
        node.rest = new
    return top


def _sort_key(policy: CompiledPolicy) -> tuple[Any, ...]:
    return policy.sort_key


def _edited_part(
    old: PolicySet | None,
    swaps: list[tuple[CompiledPolicy, CompiledPolicy]],
    gone: list[CompiledPolicy],
    added: list[CompiledPolicy],
) -> tuple[_Part, bool]:
    """What ``old`` (None: an empty set) is indexed by, edited: each (held, new) of ``swaps`` in place, the
    ``gone`` policies out, the ``added`` ones in (their precedence decides, as in a fresh build); copies,
    never ``old``'s own. Also whether its regex paths changed (the automaton is then made again)."""
    part = _Part()
    if old is not None:
        part.policies = list(old.policies)
        part.literal = dict(old._literal)
        part.root = old._root
        part.globs = old._globs
        part.regexes = list(old._regexes)
    policies, literal, regexes = part.policies, part.literal, part.regexes
    for held, new in swaps:  # the same place in the index: as replaced() does
        policies[policies.index(held)] = new
        pattern = new.pattern
        if pattern.automaton:
            regexes[regexes.index(held)] = new
        elif pattern.kind == KIND_GLOB:
            part.root = _swapped(part.root, pattern, held, new)
        elif literal.get(pattern.source) is held:
            literal[pattern.source] = new
    moved = False
    if gone:
        leaving = {id(policy) for policy in gone}
        policies[:] = [policy for policy in policies if id(policy) not in leaving]
    for policy in added:
        bisect.insort(policies, policy, key=_sort_key)
    for policy in gone:
        pattern = policy.pattern
        if pattern.automaton:
            regexes.remove(policy)
            moved = True
        elif pattern.kind == KIND_GLOB:
            part.root = _edited(part.root, pattern.tokens, pattern.tail, pattern.trailing, _leaving(policy, policies))
        elif literal.get(pattern.source) is policy:
            heir = _heir(policies, pattern)
            if heir is None:
                del literal[pattern.source]
            else:
                literal[pattern.source] = heir
    for policy in added:
        pattern = policy.pattern
        if pattern.automaton:
            bisect.insort(regexes, policy, key=_sort_key)
            moved = True
        elif pattern.kind == KIND_GLOB:
            part.root = _edited(part.root, pattern.tokens, pattern.tail, pattern.trailing, _arriving(policy))
        else:
            there = literal.get(pattern.source)
            if there is None or policy.sort_key < there.sort_key:
                literal[pattern.source] = policy
    root = part.root
    part.globs = bool(root.children or root.star or root.tails or root.end or root.rest)
    return part, moved


_SOURCE: Final = operator.attrgetter("pattern.source")
_EXPRESSION: Final = operator.attrgetter("pattern.expression")


def _heir(policies: list[CompiledPolicy], pattern: ParsedPattern) -> CompiledPolicy | None:
    """The best of ``policies`` indexed in the place of ``pattern`` (a literal path, or a glob of the trie), found
    in C: a literal path by its source (never a glob's or a regex's); a glob of the trie by its RE2 expression,
    which globs in the same trie place share ('/a/**/**' reads as '/a/**') and no other pattern has."""
    key, place = (pattern.expression, _EXPRESSION) if pattern.kind == KIND_GLOB else (pattern.source, _SOURCE)
    try:
        return policies[list(map(place, policies)).index(key)]
    except ValueError:
        return None


def _leaving(policy: CompiledPolicy, policies: list[CompiledPolicy]) -> Callable[[Any], Any]:
    """The trie edit removing ``policy``: where it was the best, the next best in the same place takes over."""

    def edit(held: CompiledPolicy | None) -> CompiledPolicy | None:
        return held if held is not policy else _heir(policies, policy.pattern)

    return edit


def _arriving(policy: CompiledPolicy) -> Callable[[Any], Any]:
    """The trie edit adding ``policy``: it takes the place where it is better than what is there."""

    def edit(held: CompiledPolicy | None) -> CompiledPolicy | None:
        return policy if held is None or policy.sort_key < held.sort_key else held

    return edit
