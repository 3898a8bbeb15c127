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
# -- audio: each container's headers read by hand, giving its duration in seconds ------------


def wav_seconds(data: bytes) -> float:
    """A WAV file's length (16-bit PCM, as the server writes it), read with the standard library."""
    import io
    import wave

    with wave.open(io.BytesIO(data)) as w:
        assert w.getsampwidth() == 2
        return w.getnframes() / w.getframerate()


def mp3_seconds(data: bytes) -> float:
    """Walk MPEG audio Layer III frames (no padding): every byte belongs to a frame."""
    rates = {3: [44100, 48000, 32000], 2: [22050, 24000, 16000]}
    kbps = {3: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320], 2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]}
    at, samples, rate = 0, 0, 0
    while at < len(data):
        h = data[at : at + 4]
        assert h[0] == 0xFF and h[1] & 0xE0 == 0xE0, f"no frame sync at {at}"
        version = (h[1] >> 3) & 3
        assert (h[1] >> 1) & 3 == 1, "layer III"
        rate = rates[version][(h[2] >> 2) & 3]
        bitrate = kbps[version][h[2] >> 4] * 1000
        per = 144 if version == 3 else 72
        at += per * bitrate // rate + ((h[2] >> 1) & 1)
        samples += 1152 if version == 3 else 576
    assert at == len(data)
    return samples / rate


def flac_seconds(data: bytes) -> float:
    """A FLAC file's length from STREAMINFO."""
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0
    (packed,) = struct.unpack(">Q", data[18:26])
    return (packed & 0xF_FFFF_FFFF) / (packed >> 44)


def ogg_opus_seconds(data: bytes) -> float:
    """An Ogg Opus file's length: the last page's granule less the pre-skip, at 48 kHz; every
    page starts with OggS, the first holds OpusHead."""
    at, granule, first = 0, 0, b""
    while at < len(data):
        assert data[at : at + 4] == b"OggS", f"no page at {at}"
        (granule,) = struct.unpack("<q", data[at + 6 : at + 14])
        segs = data[at + 26]
        size = sum(data[at + 27 : at + 27 + segs])
        if not first:
            first = data[at + 27 + segs : at + 27 + segs + size]
        at += 27 + segs + size
    assert first.startswith(b"OpusHead")
    (pre_skip,) = struct.unpack("<H", first[10:12])
    return (granule - pre_skip) / 48000


def adts_seconds(data: bytes, rate: int = 24000) -> float:
    """Walk ADTS frames of AAC (1,024 samples each)."""
    at, frames = 0, 0
    while at < len(data):
        h = data[at : at + 7]
        assert h[0] == 0xFF and h[1] & 0xF0 == 0xF0, f"no ADTS sync at {at}"
        length = ((h[3] & 3) << 11) | (h[4] << 3) | (h[5] >> 5)
        at += length
        frames += 1
    assert at == len(data)
    return frames * 1024 / rate


def audio_seconds(fmt: str, data: bytes) -> float:
    """The length of `data` in `fmt` (OpenAI's response_format names; pcm is 24 kHz 16-bit)."""
    return {
        "wav": wav_seconds,
        "mp3": mp3_seconds,
        "flac": flac_seconds,
        "opus": ogg_opus_seconds,
        "aac": adts_seconds,
        "pcm": lambda d: len(d) / 48000,
    }[fmt](data)
