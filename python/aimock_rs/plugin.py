"""The pytest plugin (entry point ``pytest11``): the ``aimock`` and ``aimock_session`` fixtures.

``aimock`` starts a fresh server for each test that asks for it and stops it afterwards;
``aimock_session`` is one server for the whole session (its state carries over between tests:
call ``reset()`` where that matters).
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from aimock_rs._server import AIMockServer


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aimock", "aimock mock server")
    group.addoption(
        "--aimock-bin",
        default=None,
        help="The aimock binary to run (default: $AIMOCK_BIN, the one the aimock-rs wheel installed, or PATH)",
    )
    group.addoption(
        "--aimock-api-key",
        default=None,
        help="Inbound API key the server requires (AIMOCK_API_KEYS); the fixtures' control calls send it",
    )
    # aimock-pytest's options, accepted so that a suite's addopts keep working; aimock-rs runs no
    # Node and downloads no npm package, so they have nothing to choose.
    group.addoption("--aimock-node", default=None, help="Ignored (aimock-pytest compatibility: no Node is used)")
    group.addoption(
        "--aimock-version", default=None, help="Ignored (aimock-pytest compatibility: the installed binary is used)"
    )


def _server(request: pytest.FixtureRequest) -> AIMockServer:
    return AIMockServer(
        binary=request.config.getoption("--aimock-bin"),
        port=0,
        api_key=request.config.getoption("--aimock-api-key"),
    )


@pytest.fixture
def aimock(request: pytest.FixtureRequest) -> Generator[AIMockServer, None, None]:
    """A fresh aimock server for this test, stopped afterwards."""
    server = _server(request)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def aimock_session(request: pytest.FixtureRequest) -> Generator[AIMockServer, None, None]:
    """One aimock server shared by every test of the session."""
    server = _server(request)
    server.start()
    try:
        yield server
    finally:
        server.stop()
