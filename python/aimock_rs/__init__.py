"""aimock-rs: the aimock binary, and aimock-pytest's fixtures and client for it.

``pip install aimock-rs`` puts ``aimock`` on PATH and registers the pytest fixtures ``aimock``
(one server per test) and ``aimock_session`` (one per session). :class:`AIMockServer` is the
same client outside pytest.
"""

from aimock_rs._binary import find_binary
from aimock_rs._callbacks import CallbackRequest, CallbackServer
from aimock_rs._server import MATCH_LEVEL_OPT_KEYS, AIMockServer, ControlAPIError

__all__ = [
    "AIMockServer",
    "CallbackRequest",
    "CallbackServer",
    "ControlAPIError",
    "MATCH_LEVEL_OPT_KEYS",
    "find_binary",
]
