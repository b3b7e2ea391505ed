"""The glob trie: globs indexed segment by segment, matched with dictionary look-ups in at most
:data:`~cors_policies.engine.limits.MAX_GLOB_STEPS` node visits, whatever the path and however many globs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .policy import CompiledPolicy


class _Node:
    """A node of the glob trie: globs indexed segment by segment, with '*' as an edge of its own.

    A path goes down the literal edge named by each of its segments and the '*' edge at once, so the nodes
    it visits per segment multiply where globs put '*' beside literal segments. ``weight`` bounds that: the
    most nodes a path can visit from here (this one, its '*' subtree, its heaviest literal subtree, and the
    suffix trie of the globs with a '**' here), kept up to date as globs are added, so that the budget
    :data:`MAX_GLOB_STEPS` holds for the root, whatever the path.
    """

    __slots__ = ("best", "children", "end", "rest", "star", "tails", "weight")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.star: _Node | None = None
        #: The best policy whose glob ends here: in the trie of the starts of globs, where the path ends
        #: too; in a suffix trie, where the glob's last segments matched the path's.
        self.end: CompiledPolicy | None = None
        #: The best policy whose glob ends here with '**' (so whatever follows matches).
        self.rest: CompiledPolicy | None = None
        #: The globs with a '**' here and more segments after it: those segments, last first, matched
        #: from the end of the path.
        self.tails: _Node | None = None
        self.weight = 1
        self.best = 0  # the heaviest literal child's weight

    def reweigh(self) -> None:
        self.weight = (
            1
            + (self.tails.weight if self.tails is not None else 0)
            + (self.star.weight if self.star is not None else 0)
            + self.best
        )


def _grown(root: _Node | None, tokens: Sequence[str], tail: Sequence[str] | None) -> int:
    """The weight ``root`` would have with one more glob (``tokens``, then ``tail`` after a '**'), computed
    without adding it, so that a glob over the budget leaves the trie as it was."""
    nodes: list[_Node | None] = [root]
    for part in tokens:
        node = nodes[-1]
        nodes.append(None if node is None else node.star if part == "*" else node.children.get(part))
    last = nodes[-1]
    if tail is not None:
        tails = last.tails if last is not None else None
        tails_weight = _grown(tails, tail[::-1], None)
        old = tails.weight if tails is not None else 0
        weight = 1 + tails_weight if last is None else last.weight - old + tails_weight
    else:
        weight = 1 if last is None else last.weight
    for part, node in zip(reversed(tokens), reversed(nodes[:-1]), strict=True):
        if node is None:
            weight += 1
        elif part == "*":
            weight = 1 + (node.tails.weight if node.tails is not None else 0) + weight + node.best
        else:
            star = node.star.weight if node.star is not None else 0
            weight = 1 + (node.tails.weight if node.tails is not None else 0) + star + max(node.best, weight)
    return weight


def _add(root: _Node, tokens: Sequence[str], tail: Sequence[str] | None) -> _Node:
    """Add a glob's nodes and re-weigh them up to ``root``; returns the node its policy belongs to."""
    nodes = [root]
    for part in tokens:
        node = nodes[-1]
        if part == "*":
            if node.star is None:
                node.star = _Node()
            nodes.append(node.star)
        else:
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = _Node()
            nodes.append(child)
    owner = last = nodes[-1]
    if tail is not None:
        if last.tails is None:
            last.tails = _Node()
        owner = _add(last.tails, tail[::-1], None)
    last.reweigh()
    for index in range(len(tokens) - 1, -1, -1):
        node, child = nodes[index], nodes[index + 1]
        if tokens[index] != "*":
            node.best = max(node.best, child.weight)  # weights only grow as globs are added
        node.reweigh()
    return owner


def _best_glob(root: _Node, path: str) -> CompiledPolicy | None:
    """The best glob of the trie matching the whole ``path``: at most ``root.weight`` node visits, each a
    dictionary look-up or two, however long the path and however many globs."""
    if not path.startswith("/"):
        return root.rest if path == "" else None
    best: CompiledPolicy | None = None
    length = len(path)
    active = [root]
    position = 0  # where the segments matched so far end: a '/', or the end of the path
    while True:
        for node in active:
            found = node.rest
            if found is not None and (best is None or found.sort_key < best.sort_key):
                best = found
            if node.tails is not None:
                found = _best_tail(node.tails, path, position)
                if found is not None and (best is None or found.sort_key < best.sort_key):
                    best = found
        if position == length:
            for node in active:
                found = node.end
                if found is not None and (best is None or found.sort_key < best.sort_key):
                    best = found
            return best
        stop = path.find("/", position + 1)
        if stop < 0:
            stop = length
        segment = path[position + 1 : stop]
        following = []
        for node in active:
            if node.children:
                child = node.children.get(segment)
                if child is not None:
                    following.append(child)
            if node.star is not None and segment:
                following.append(node.star)
        if not following:
            return best
        active = following
        position = stop


def _best_tail(root: _Node, path: str, start: int) -> CompiledPolicy | None:
    """The best glob of a suffix trie whose last segments are the path's, all of them after ``start``
    (where the segments before the glob's '**' ended): '**' takes what lies between, possibly nothing."""
    best: CompiledPolicy | None = None
    active = [root]
    end = len(path)
    while True:
        slash = path.rfind("/", start, end)
        if slash < 0:
            return best
        segment = path[slash + 1 : end]
        following = []
        for node in active:
            if node.children:
                child = node.children.get(segment)
                if child is not None:
                    following.append(child)
            if node.star is not None and segment:
                following.append(node.star)
        for node in following:
            found = node.end
            if found is not None and (best is None or found.sort_key < best.sort_key):
                best = found
        if not following:
            return best
        active = following
        end = slash


def _copy(node: _Node | None) -> _Node:
    """A copy of ``node`` (a new node for None) whose children dict is its own: a set being built may change it,
    while the set it was copied from, still served, is never modified."""
    copy = _Node.__new__(_Node)
    if node is None:
        copy.children = {}
        copy.star = copy.end = copy.rest = copy.tails = None
        copy.weight, copy.best = 1, 0
        return copy
    copy.children = dict(node.children)
    copy.star, copy.end, copy.rest, copy.tails = node.star, node.end, node.rest, node.tails
    copy.weight, copy.best = node.weight, node.best
    return copy


def _empty(node: _Node) -> bool:
    return node.end is None and node.rest is None and node.tails is None and node.star is None and not node.children


def _way(top: _Node, parts: Sequence[str]) -> tuple[list[_Node], list[int]]:
    """The nodes on ``parts``' way down from ``top`` (a copy already), each copied (or made) and linked in, with
    the weight each had before (0 for a new one)."""
    nodes = [top]
    weights = [top.weight]
    for part in parts:
        node = nodes[-1]
        old = node.star if part == "*" else node.children.get(part)
        child = _copy(old)
        if part == "*":
            node.star = child
        else:
            node.children[part] = child
        nodes.append(child)
        weights.append(0 if old is None else old.weight)
    return nodes, weights


def _settle(nodes: list[_Node], weights: list[int], parts: Sequence[str]) -> None:
    """Up the way from its last node: a node left empty is dropped, and each weight is what a trie built with
    the same globs from scratch has (a literal child that was the heaviest may have lost weight)."""
    nodes[-1].reweigh()
    for index in range(len(parts) - 1, -1, -1):
        node, child, part = nodes[index], nodes[index + 1], parts[index]
        gone = _empty(child)
        if part == "*":
            node.star = None if gone else child
        else:
            before, best = weights[index + 1], node.best
            if gone:
                del node.children[part]
                if before >= best:
                    node.best = max((c.weight for c in node.children.values()), default=0)
            elif child.weight >= best:
                node.best = child.weight
            elif before >= best:
                node.best = max(c.weight for c in node.children.values())
        node.reweigh()


def _edited(
    root: _Node,
    tokens: Sequence[str],
    tail: Sequence[str] | None,
    trailing: bool,
    edit: Callable[[CompiledPolicy | None], CompiledPolicy | None],
) -> _Node:
    """A copy of the trie ``root`` where the policy a glob (``tokens``, ``tail``, ``trailing``) belongs to is
    ``edit(held)``: the nodes on that glob's way are copied (made when missing, dropped when left empty, their
    weights recomputed), every other node is shared. The trie equals one built afresh with the edited globs."""
    top = _copy(root)
    nodes, weights = _way(top, tokens)
    last = nodes[-1]
    if tail is not None:
        suffix = tail[::-1]
        tails, tail_weights = _way(_copy(last.tails), suffix)
        owner = tails[-1]
        owner.end = edit(owner.end)
        _settle(tails, [0 if last.tails is None else last.tails.weight, *tail_weights[1:]], suffix)
        last.tails = None if _empty(tails[0]) else tails[0]
    elif trailing:
        last.rest = edit(last.rest)
    else:
        last.end = edit(last.end)
    _settle(nodes, weights, tokens)
    return top
