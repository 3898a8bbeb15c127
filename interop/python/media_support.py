"""Media helpers shared by the image tests."""

from __future__ import annotations

import base64
import struct

# A 1x1 PNG, as a fixture's bytes (base64).
TINY_PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082"
    )
).decode()


def png_size(data: bytes) -> tuple[int, int]:
    """The width and height of a PNG (it must be one)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])
