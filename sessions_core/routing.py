"""Requests on a Redis Cluster: each item to the master of its key's slot, one pipeline per node.

redis-py's cluster pipeline refuses EVALSHA, so both classes route themselves: the slot map is
redis-py's (`RedisCluster.nodes_manager`, refreshed after a redirect or a fault), the items of a
request are grouped by node, and each group goes as one plain pipeline, the nodes at once.
A command without a key (TIME, INFO, PING) goes with the item before it, so `SMEMBERS us:{id}`
and `TIME` read one clock; a request of keyless commands only goes to the default node.

A MOVED or ASK reply means the item did not run: the slot map is refreshed and the item sent
again (writes too). CLUSTERDOWN and TRYAGAIN (a failover under way) count as the server being
unreachable, so reads are retried and writes raise `StoreUnavailable`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any, Protocol, TypeVar

import redis
from redis.exceptions import AskError, ClusterDownError, MovedError, TryAgainError

from .plans import Command, Key, Run

KEYLESS = frozenset({"TIME", "INFO", "PING"})
REDIRECTS = (MovedError, AskError)
BUSY = (ClusterDownError, TryAgainError)


class Node(Protocol):
    """A cluster node of redis-py, sync or async."""

    name: str


N = TypeVar("N", bound=Node)


def command(item: Run | Command) -> tuple[Any, ...]:
    if isinstance(item, Run):
        return ("EVALSHA", item.script.sha, len(item.keys), *item.keys, *item.args)
    return item


def key_of(item: Run | Command) -> Key | None:
    if isinstance(item, Run):
        return item.keys[0] if item.keys else None
    if str(item[0]).upper() in KEYLESS or len(item) < 2:
        return None
    return item[1]  # type: ignore[no-any-return]


def group(
    items: Sequence[Run | Command],
    indexes: Sequence[int],
    node_of: Callable[[Key], N],
    default: Callable[[], N],
) -> list[tuple[N, list[int]]]:
    """The items at `indexes`, grouped by the node serving each, in order within a node."""
    groups: dict[str, tuple[N, list[int]]] = {}
    node: N | None = None
    for i in indexes:
        key = key_of(items[i])
        if key is not None:
            node = node_of(key)
        elif node is None:
            node = default()
        groups.setdefault(node.name, (node, []))[1].append(i)
    return list(groups.values())


Groups = list[tuple[Any, list[int]]]
REFRESH = None  # what `exchange` yields for "refresh the slot map"
Exchange = Generator[Groups | None, list[list[Any]], list[Any]]


def exchange(
    items: Sequence[Run | Command],
    node_of: Callable[[Key], Any],
    default: Callable[[], Any],
) -> Exchange:
    """The items' replies, in order: yields the groups of (node, item indexes) to send and is
    sent each group's replies, or yields REFRESH when the slot map must be read again (the
    items redirected are then sent again, at most twice). Written once for both classes."""
    replies: list[Any] = [None] * len(items)
    pending: Sequence[int] = range(len(items))
    for _attempt in range(3):
        groups = group(items, pending, node_of, default)
        results = yield groups
        for (_node, indexes), result in zip(groups, results, strict=True):
            for i, reply in zip(indexes, result, strict=True):
                replies[i] = reply
        pending = redirected(replies, pending)
        if not pending:
            return replies
        yield REFRESH
    return unredirected(replies)


def redirected(replies: Sequence[Any], indexes: Sequence[int]) -> list[int]:
    """The indexes whose reply is a redirect (the item did not run); a failover under way
    raises as the server being unreachable."""
    for i in indexes:
        if isinstance(replies[i], BUSY):
            raise redis.ConnectionError(f"the cluster is failing over ({replies[i]})")
    return [i for i in indexes if isinstance(replies[i], REDIRECTS)]


def unredirected(replies: Sequence[Any]) -> list[Any]:
    """Replies once resending is given up: a redirect left is a cluster still moving."""
    for reply in replies:
        if isinstance(reply, REDIRECTS):
            raise redis.ConnectionError(f"the cluster's slots are moving ({reply})")
    return list(replies)
