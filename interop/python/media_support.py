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


def mp4_summary(data: bytes) -> dict[str, object]:
    """Walk an MP4's boxes as a reader would and sum it up: the top-level box types, the
    movie's duration in seconds, the video track's handler, sample entry and frame size, and
    whether the sample table's one chunk offset and sample size land exactly on `mdat`'s payload.
    Fails on a box whose size does not fit."""

    def boxes(buf: bytes) -> list[tuple[bytes, bytes, int]]:
        out, at = [], 0
        while at < len(buf):
            size, kind = struct.unpack(">I4s", buf[at : at + 8])
            assert size >= 8 and at + size <= len(buf), f"bad box at {at}: {size}"
            out.append((kind, buf[at + 8 : at + size], at + 8))
            at += size
        return out

    def child(buf: bytes, kind: bytes) -> bytes:
        found = [p for k, p, _ in boxes(buf) if k == kind]
        assert found, f"no {kind!r} box"
        return found[0]

    top = boxes(data)
    moov = child(data, b"moov")
    mvhd = child(moov, b"mvhd")
    timescale, duration = struct.unpack(">II", mvhd[12:20])
    trak = child(moov, b"trak")
    mdia = child(trak, b"mdia")
    stbl = child(child(mdia, b"minf"), b"stbl")
    stsd = child(stbl, b"stsd")
    entry = stsd[16:]
    width, height = struct.unpack(">HH", entry[24:28])
    (sample,) = struct.unpack(">I", child(stbl, b"stsz")[12:16])
    (offset,) = struct.unpack(">I", child(stbl, b"stco")[8:12])
    mdat = [(p, start) for k, p, start in top if k == b"mdat"]
    return {
        "boxes": [k.decode() for k, _, _ in top],
        "seconds": duration / timescale,
        "handler": child(mdia, b"hdlr")[8:12].decode(),
        "codec": stsd[12:16].decode(),
        "size": (width, height),
        "frame_in_mdat": bool(mdat) and offset == mdat[0][1] and sample == len(mdat[0][0]),
    }
