"""Conversation threading: Jamie Zawinski's algorithm (https://www.jwz.org/doc/threading.html).

Pure functions over anything with `message_id`, `subject` and `references` (In-Reply-To folded
in as the last reference). Every walk is iterative and every link is checked for cycles, because
References headers are written by strangers: a loop or a 10,000-deep chain must only ever cost
time, never a RecursionError or a lost message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol


class Threadable(Protocol):
    @property
    def message_id(self) -> str | None: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def references(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class ThreadableMessage:
    """A ready-made Threadable; `key` carries the caller's own handle (e.g. a row id)."""

    message_id: str | None
    subject: str | None = None
    references: tuple[str, ...] = ()
    date: datetime | None = None
    key: object = None


@dataclass(eq=False)
class ThreadNode:
    """One message in the forest; `message` is None for a placeholder (a referenced message we
    never saw, or the shared parent of root messages grouped by subject)."""

    message: Threadable | None
    children: list[ThreadNode] = field(default_factory=list)
    parent: ThreadNode | None = field(default=None, repr=False)


# "Re:", "RE[4]:", "Re(2):" and the usual translations (Aw, Sv, Antw, Vs), plus "[list]" tags.
_REPLY = re.compile(r"(?:re|aw|sv|antw|vs)\s*(?:\[(\d+)\]|\((\d+)\))?\s*:", re.I)
_LIST_TAG = re.compile(r"\[[^\[\]]*\]")


def _strip_prefixes(subject: str | None) -> tuple[str, int]:
    text, depth = " ".join((subject or "").split()), 0
    while True:
        reply = _REPLY.match(text)
        tag = _LIST_TAG.match(text)
        if reply:
            depth += int(reply.group(1) or reply.group(2) or 1)
            text = text[reply.end() :].lstrip()
        elif tag:
            text = text[tag.end() :].lstrip()
        else:
            return text, depth


def normalize_subject(subject: str | None) -> str:
    """The subject a conversation is known by: reply prefixes and "[list]" tags removed."""
    return _strip_prefixes(subject)[0]


def reply_depth(subject: str | None) -> int:
    """How many reply levels the prefixes claim ("Re: Re[4]:" is 5)."""
    return _strip_prefixes(subject)[1]


def thread_messages(
    messages: Iterable[Threadable], *, algorithm: Literal["references", "subject"] = "references"
) -> list[ThreadNode]:
    """The thread forest, roots in arrival order. "subject" groups by normalized subject only."""
    if algorithm == "subject":
        return _thread_by_subject(list(messages))
    roots = _link_by_references(messages)
    roots = _prune_placeholders(roots)
    return _group_roots_by_subject(roots)


def walk(roots: Iterable[ThreadNode]) -> Iterable[tuple[ThreadNode, int]]:
    """Every node with its depth, depth-first in display order, without recursion."""
    stack = [(node, 0) for node in reversed(list(roots))]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        stack.extend((child, depth + 1) for child in reversed(node.children))


def _is_ancestor(candidate: ThreadNode, node: ThreadNode) -> bool:
    """Whether `candidate` is `node` or above it: linking node above it would close a loop."""
    current: ThreadNode | None = node
    while current is not None:
        if current is candidate:
            return True
        current = current.parent
    return False


def _link(parent: ThreadNode, child: ThreadNode) -> None:
    if child.parent is not None:
        child.parent.children.remove(child)
    child.parent = parent
    parent.children.append(child)


def _link_by_references(messages: Iterable[Threadable]) -> list[ThreadNode]:
    """JWZ steps 1-2: one container per Message-ID, chained along each References list."""
    table: dict[str, ThreadNode] = {}
    for number, message in enumerate(messages):
        own_id = message.message_id or f"\0missing-{number}"
        node = table.get(own_id)
        if node is None or node.message is not None:  # duplicates become distinct messages
            own_id = own_id if node is None else f"\0duplicate-{number}"
            node = table[own_id] = ThreadNode(None)
        node.message = message
        previous: ThreadNode | None = None
        for ref in dict.fromkeys(r for r in (message.references or ()) if r):
            current = table.setdefault(ref, ThreadNode(None))
            # Keep links made by earlier messages; never close a loop.
            linkable = previous is not None and current.parent is None
            if linkable and not _is_ancestor(current, previous):
                _link(previous, current)
            previous = current
        # The message's own parent is its last reference, replacing any guess made before.
        if previous is not None and not _is_ancestor(node, previous):
            _link(previous, node)
    return [node for node in table.values() if node.parent is None]


def _prune_placeholders(roots: list[ThreadNode]) -> list[ThreadNode]:
    """JWZ step 4: drop empty placeholders and lift the children of those that only add depth."""
    preorder: list[ThreadNode] = []
    stack = list(roots)
    while stack:
        node = stack.pop()
        preorder.append(node)
        stack.extend(node.children)
    for node in reversed(preorder):  # children before their parents
        node.children = _pruned(node.children, node, at_root=False)
    return _pruned(roots, None, at_root=True)


def _pruned(
    nodes: list[ThreadNode], parent: ThreadNode | None, *, at_root: bool
) -> list[ThreadNode]:
    result: list[ThreadNode] = []
    for node in nodes:
        if node.message is None and not node.children:
            continue
        # A root placeholder with several children stays: it is what holds them together.
        if node.message is None and (not at_root or len(node.children) == 1):
            for child in node.children:
                child.parent = parent
            result.extend(node.children)
        else:
            result.append(node)
    return result


def _root_subject(node: ThreadNode) -> tuple[str, int]:
    message = node.message or (node.children[0].message if node.children else None)
    return _strip_prefixes(message.subject if message else None)


def _subject_keepers(roots: list[ThreadNode]) -> dict[str, ThreadNode]:
    """Per subject, the root the others join: a placeholder if any, else the first original."""
    keepers: dict[str, ThreadNode] = {}
    for root in roots:
        subject, depth = _root_subject(root)
        old = keepers.get(subject)
        if not subject:
            continue
        if (
            old is None
            or (root.message is None and old.message is not None)
            or (old.message is not None and root.message is not None and depth == 0
                and _root_subject(old)[1] > 0)
        ):  # fmt: skip
            keepers[subject] = root
    return keepers


def _group_roots_by_subject(roots: list[ThreadNode]) -> list[ThreadNode]:
    """JWZ step 5: roots whose normalized subjects match become one thread."""
    keepers = _subject_keepers(roots)
    result: list[ThreadNode] = []
    for root in roots:
        subject, depth = _root_subject(root)
        keeper = keepers.get(subject) if subject else None
        if keeper is None or keeper is root:
            result.append(root)
        elif keeper.message is None:  # a placeholder gathers the others
            for child in list(root.children) if root.message is None else [root]:
                _link(keeper, child)
        elif depth > 0 and _root_subject(keeper)[1] == 0:  # a reply joins its original
            _link(keeper, root)
        else:  # two threads that merely share a subject: a new placeholder holds both
            holder = keepers[subject] = ThreadNode(None)
            # Only a placeholder or an original is chosen over an earlier root, and both are
            # handled above, so the keeper here arrived earlier and is already in `result`.
            result[result.index(keeper)] = holder
            _link(holder, keeper)
            _link(holder, root)
    return result


def _thread_by_subject(messages: list[Threadable]) -> list[ThreadNode]:
    """Subject-only threading: per normalized subject, the earliest message is the parent."""
    dated = sorted(
        enumerate(messages),
        key=lambda item: (getattr(item[1], "date", None) is None, _timestamp(item[1]), item[0]),
    )
    roots: dict[str, ThreadNode] = {}
    forest: list[ThreadNode] = []
    for number, message in dated:
        subject = normalize_subject(message.subject) or f"\0{number}"
        node = ThreadNode(message)
        if subject in roots:
            _link(roots[subject], node)
        else:
            roots[subject] = node
            forest.append(node)
    return forest


def _timestamp(message: Threadable) -> float:
    date = getattr(message, "date", None)
    return date.timestamp() if isinstance(date, datetime) else 0.0
