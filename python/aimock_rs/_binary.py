"""Where the `aimock` binary is: AIMOCK_BIN, else the one this distribution installed, else PATH."""

from __future__ import annotations

import os
import shutil
from importlib import metadata
from pathlib import Path

__all__ = ["find_binary"]


def _installed_script() -> Path | None:
    try:
        files = metadata.distribution("aimock-rs").files or []
    except metadata.PackageNotFoundError:
        return None
    for f in files:
        # The wheel's `<name>.data/scripts/aimock`, installed into the environment's scripts dir.
        if f.name in ("aimock", "aimock.exe") and f.parent.name in ("bin", "Scripts"):
            path = Path(str(f.locate())).resolve()
            if path.is_file():
                return path
    return None


def find_binary() -> Path:
    """The aimock binary the plugin starts.

    1. ``AIMOCK_BIN``, when set (an error if it names no file);
    2. the binary the ``aimock-rs`` wheel installed into this environment;
    3. ``aimock`` on ``PATH``.
    """
    env = os.environ.get("AIMOCK_BIN")
    if env:
        path = Path(env)
        if not path.is_file():
            raise RuntimeError(f"AIMOCK_BIN is set to {env!r} but there is no file there")
        return path
    installed = _installed_script()
    if installed is not None:
        return installed
    found = shutil.which("aimock")
    if found:
        return Path(found)
    raise RuntimeError(
        "no aimock binary: install the aimock-rs wheel (pip install aimock-rs), "
        "put `aimock` on PATH, or set AIMOCK_BIN"
    )
