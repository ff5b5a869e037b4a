"""The fault tests' fixtures: a mail server that holds messages, a PostgreSQL of their own."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import pytest

from tests.faults.support import HoldingHandler, PrivatePostgres
from tests.support.smtp import SMTPSink


@pytest.fixture
def holding_smtp_sink(smtp_sink_with) -> Callable[..., SMTPSink]:  # type: ignore[no-untyped-def]
    """A factory: ``holding_smtp_sink(accept=k, keep=(True, False))`` is a sink that takes
    ``k`` messages and then holds the rest (``tests.faults.support.HoldingHandler``)."""

    def make(*, accept: int, keep: Sequence[bool]) -> SMTPSink:
        return smtp_sink_with(lambda sink: HoldingHandler(sink, accept=accept, keep=keep))  # type: ignore[no-any-return]

    return make


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server of the test's own, started on a free port, removed at the end."""
    server = PrivatePostgres().init()
    server.start()
    try:
        yield server
    finally:
        server.destroy()
