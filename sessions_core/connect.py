"""Clients from a URL: a standalone server (`redis://`, `rediss://`, `unix://`), or a primary
followed through Sentinel (`redis+sentinel://[user:password@]host:port[,host:port...]/SERVICE[/DB]`).

The password of a Sentinel URL is used for the primary and its replicas and for the sentinels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.sentinel
import redis.cluster
import redis.sentinel
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

SENTINEL_SCHEME = "redis+sentinel"
ASYNC_CONNECTIONS = 100  # connections of an AsyncRedisSessions; more concurrent calls wait


@dataclass(frozen=True, slots=True)
class SentinelURL:
    sentinels: list[tuple[str, int]]
    service: str
    db: int
    username: str | None
    password: str | None

    def describe(self) -> str:
        """Where, for messages: never the password."""
        hosts = ",".join(f"{host}:{port}" for host, port in self.sentinels)
        return f"Sentinel service {self.service} via {hosts}"


def parse_sentinel_url(url: str) -> SentinelURL | None:
    """A `redis+sentinel://` URL read, None for any other scheme; ValueError when malformed."""
    parts = urlsplit(url)
    if parts.scheme != SENTINEL_SCHEME:
        return None
    netloc = parts.netloc.rpartition("@")[2]
    sentinels: list[tuple[str, int]] = []
    for address in filter(None, netloc.split(",")):
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"{SENTINEL_SCHEME} URL: {address!r} is not host:port")
        sentinels.append((host.strip("[]"), int(port)))
    path = [unquote(p) for p in parts.path.split("/") if p]
    if not sentinels or not 1 <= len(path) <= 2 or (len(path) == 2 and not path[1].isdigit()):
        raise ValueError(
            f"a {SENTINEL_SCHEME} URL reads "
            f"{SENTINEL_SCHEME}://[user:password@]host:port[,host:port...]/SERVICE[/DB]"
        )
    return SentinelURL(
        sentinels=sentinels,
        service=path[0],
        db=int(path[1]) if len(path) == 2 else 0,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def _options(socket_timeout: float) -> dict[str, Any]:
    return {
        "decode_responses": True,
        "encoding_errors": "surrogateescape",
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": socket_timeout,
    }


def _auth(found: SentinelURL) -> dict[str, Any]:
    return {"username": found.username, "password": found.password}


def sync_client(url: str, *, socket_timeout: float) -> redis.Redis:
    """A client for `url`. Writes are never retried by redis-py (the library decides)."""
    found = parse_sentinel_url(url)
    options = {**_options(socket_timeout), "retry": Retry(NoBackoff(), 0)}
    if found is None:
        return redis.Redis.from_url(url, **options)
    sentinel = redis.sentinel.Sentinel(  # type: ignore[no-untyped-call]
        found.sentinels,
        sentinel_kwargs={**_auth(found), "socket_timeout": socket_timeout},
        socket_timeout=socket_timeout,
    )
    client: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
        found.service, db=found.db, **_auth(found), **options
    )
    return client


def async_client(url: str, *, socket_timeout: float) -> redis.asyncio.Redis:
    """`sync_client` on redis.asyncio."""
    found = parse_sentinel_url(url)
    options = {**_options(socket_timeout), "retry": AsyncRetry(NoBackoff(), 0)}
    if found is None:
        # redis.asyncio's default pool refuses the 101st concurrent call (MaxConnectionsError):
        # an asyncio.gather of 1000 gets must wait for a connection instead, as threads do.
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            url, max_connections=ASYNC_CONNECTIONS, timeout=socket_timeout, **options
        )
        standalone = redis.asyncio.Redis(connection_pool=pool)
        standalone.auto_close_connection_pool = True  # aclose() closes the pool it owns
        return standalone
    sentinel = redis.asyncio.sentinel.Sentinel(  # type: ignore[no-untyped-call]
        found.sentinels,
        sentinel_kwargs={**_auth(found), "socket_timeout": socket_timeout},
        socket_timeout=socket_timeout,
    )
    client: redis.asyncio.Redis = sentinel.master_for(
        found.service, db=found.db, **_auth(found), **options
    )
    return client


def where(url: str, connection_kwargs: dict[str, Any]) -> str:
    """The server a client talks to, for messages: host:port, a socket path, or the Sentinel
    service; never a password."""
    found = parse_sentinel_url(url)
    if found is not None:
        return found.describe()
    if "path" in connection_kwargs:
        return str(connection_kwargs["path"])
    return f"{connection_kwargs.get('host', '?')}:{connection_kwargs.get('port', '?')}"


def where_cluster(url: str) -> str:
    """A cluster, for messages: the node its URL names, if it was given one."""
    parts = urlsplit(url)
    if not parts.hostname:
        return "Redis Cluster"
    return f"Redis Cluster via {parts.hostname}:{parts.port or 6379}"


def is_cluster_url(url: str) -> bool:
    """Whether a URL may name a cluster node (a Sentinel URL or a socket path never does)."""
    return urlsplit(url).scheme in {"redis", "rediss"}


def cluster_enabled(info: dict[str, Any]) -> bool:
    """Whether `INFO cluster` comes from a node of a Redis Cluster."""
    return str(info.get("cluster_enabled", "0")) == "1"


def sync_cluster(url: str, *, socket_timeout: float) -> redis.cluster.RedisCluster:
    """A cluster client from the URL of any node; it finds the others."""
    return redis.cluster.RedisCluster.from_url(url, **_options(socket_timeout))


def async_cluster(url: str, *, socket_timeout: float) -> redis.asyncio.cluster.RedisCluster:
    """`sync_cluster` on redis.asyncio."""
    return redis.asyncio.cluster.RedisCluster.from_url(url, **_options(socket_timeout))


# What an async cluster node's own settings give our client of it (the rest is ours: text
# handling, timeouts, no retries): its address, credentials, and its TLS settings (`ssl_*`).
_NODE_SETTINGS = frozenset(
    {"host", "port", "username", "password", "credential_provider", "client_name"}
)


def async_node(node: Any, *, socket_timeout: float) -> redis.asyncio.Redis:
    """An async client for one cluster node (a redis.asyncio `ClusterNode`), with that node's
    connection class and settings (address, credentials, TLS with its certificates); it waits
    for a free connection like `async_client`."""
    settings = {
        name: value
        for name, value in node.connection_kwargs.items()
        if name in _NODE_SETTINGS or name.startswith("ssl_")
    }
    options = {**_options(socket_timeout), "retry": AsyncRetry(NoBackoff(), 0)}
    pool = redis.asyncio.BlockingConnectionPool(
        connection_class=node.connection_class,
        max_connections=ASYNC_CONNECTIONS,
        timeout=socket_timeout,
        **settings,
        **options,
    )
    client = redis.asyncio.Redis(connection_pool=pool)
    client.auto_close_connection_pool = True
    return client
