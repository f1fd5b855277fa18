"""Which Neo4j to talk to, and opening a driver that fails with advice instead of a stack trace.

``TC_NEO4J_URI`` (with ``TC_NEO4J_USER`` and ``TC_NEO4J_PASSWORD``) wins: the docker compose
server or a cluster's. Otherwise the local server recorded by ``tc db start`` is used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from neo4j import Driver, GraphDatabase
from neo4j.exceptions import (
    AuthError,
    ClientError,
    ConfigurationError,
    ServiceUnavailable,
    SessionExpired,
)

from torchcell.errors import Neo4jUnavailable, TorchCellError
from torchcell.graphdb import local_server

RETRY_S = 10.0
"""How long a write is retried on a lost connection before the server is called dead (the
driver's default, 30 s per statement, made a dead server look like a hang)."""


@dataclass(frozen=True)
class Neo4jSettings:
    uri: str
    user: str = "neo4j"
    password: str = ""
    database: str = "neo4j"

    @property
    def auth(self) -> tuple[str, str] | None:
        return (self.user, self.password) if self.password else None


SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
"""The URI schemes of the Neo4j driver; anything else (http://, the browser's port) is refused."""


def masked(uri: str) -> str:
    """``uri`` with the password of its userinfo replaced by ``***``, fit to print."""
    return re.sub(r"^([^/]*//[^/@:]*):[^/]*@", r"\1:***@", uri)


def check_uri(uri: str) -> None:
    """A TorchCellError naming TC_NEO4J_URI (its password masked) unless ``uri`` is a
    driver address: a Neo4j scheme, a host, a port in 1..65535, no credentials inside."""
    try:
        parts = urlsplit(uri)
        port = parts.port
        problem = None
    except ValueError as err:
        problem = str(err)
    if problem is None:
        if parts.scheme not in SCHEMES:
            problem = f"scheme {parts.scheme or '(none)'!r} is not one of {', '.join(SCHEMES)}"
        elif parts.username is not None:
            problem = "credentials belong in TC_NEO4J_USER and TC_NEO4J_PASSWORD, not the address"
        elif not parts.hostname:
            problem = "no host"
        elif port == 0:
            problem = "port 0"
    if problem is not None:
        raise not_an_address(uri, problem)


def not_an_address(uri: str, problem: str) -> TorchCellError:
    return TorchCellError(
        f"TC_NEO4J_URI={masked(uri)!r} is not a Neo4j address ({problem}); use e.g. "
        "bolt://host:7687 or neo4j://host:7687, or unset it to use the local server"
    )


def resolve_settings() -> Neo4jSettings:
    uri = os.environ.get("TC_NEO4J_URI")
    database = os.environ.get("TC_NEO4J_DATABASE", "neo4j")
    if uri:
        check_uri(uri)
        return Neo4jSettings(
            uri=uri,
            user=os.environ.get("TC_NEO4J_USER", "neo4j"),
            password=os.environ.get("TC_NEO4J_PASSWORD", ""),
            database=database,
        )
    state = local_server.read_state()
    if state is None:
        raise Neo4jUnavailable(
            "no configured address",
            f"TC_NEO4J_URI is not set and no local server of TC_HOME={local_server.state_dir()} "
            "is running",
        )
    return local_settings(state, database)


def local_settings(state: local_server.ServerState, database: str = "neo4j") -> Neo4jSettings:
    """How to reach the local server of ``state`` (user neo4j, its password file)."""
    return Neo4jSettings(
        uri=state.uri, user="neo4j", password=local_server.password() or "", database=database
    )


@contextmanager
def open_driver(settings: Neo4jSettings | None = None) -> Iterator[Driver]:
    """A connected driver; Neo4jUnavailable when nothing answers or the credentials are refused."""
    settings = settings or resolve_settings()
    try:
        driver = GraphDatabase.driver(
            settings.uri,
            auth=settings.auth,
            connection_timeout=10.0,
            max_transaction_retry_time=RETRY_S,
            notifications_min_severity="OFF",
        )
    except (ConfigurationError, ValueError) as err:
        raise not_an_address(settings.uri, str(err)) from None
    try:
        try:
            driver.verify_connectivity()
        except (ServiceUnavailable, SessionExpired, OSError) as err:
            raise Neo4jUnavailable(
                masked(settings.uri), type(err).__name__ + ": " + str(err)
            ) from None
        except AuthError as err:
            raise Neo4jUnavailable(
                masked(settings.uri), f"authentication failed: {err.message}"
            ) from None
        except ClientError as err:
            if not (err.code or "").startswith("Neo.ClientError.Security."):
                raise
            raise Neo4jUnavailable(
                masked(settings.uri), f"authentication failed: {err.message}"
            ) from None
        yield driver
    finally:
        driver.close()
