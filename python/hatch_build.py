"""hatchling build hook: ship the prebuilt `aimock` binary as the wheel's `aimock` script.

The binary is the one the workspace's release build made (`cargo build --release`), so the wheel
costs no second compilation: `../target/release/aimock`, or the file named by the environment
variable AIMOCK_WHEEL_BINARY. It goes into `<name>.data/scripts/aimock`, which installers put on
PATH (the venv's `bin/`), and the wheel is tagged for the platform the binary runs on, read from
its ELF header and from the glibc symbol versions it needs: `py3-none-manylinux_2_<N>_<arch>`
(the newest `GLIBC_2.N` it references) when it links only the system libraries manylinux allows,
else `py3-none-linux_<arch>`. AIMOCK_WHEEL_PLATFORM overrides the platform part of the tag (e.g. for a cross build).
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# ELF e_machine values of the targets a wheel tag can name.
_ARCHES = {62: "x86_64", 183: "aarch64", 3: "i686", 40: "armv7l", 21: "ppc64le", 22: "s390x"}
_SHT_GNU_VERNEED = 0x6FFFFFFE
_SHT_DYNAMIC = 6
_DT_NEEDED = 1
# The system libraries a manylinux wheel may link (PEP 600: those of the manylinux policies).
_MANYLINUX_LIBS = {
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "librt.so.1",
    "libpthread.so.0",
    "libutil.so.1",
    "libresolv.so.2",
    "libnsl.so.1",
    "libcrypt.so.1",
    "libgcc_s.so.1",
    "libstdc++.so.6",
}


def _cstr(data: bytes, offset: int) -> str:
    end = data.index(b"\0", offset)
    return data[offset:end].decode("ascii", "replace")


def _dynamic_info(data: bytes) -> tuple[list[tuple[int, int]], list[str]] | None:
    """The GLIBC_x.y versions a 64-bit little-endian ELF needs (its .gnu.version_r) and the
    libraries it links (DT_NEEDED), or None when it has no section headers to read them from."""
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    if shoff == 0 or shnum == 0:
        return None
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    versions: list[tuple[int, int]] = []
    needed: list[str] = []
    for _name, kind, _flags, _addr, offset, size, link, count, _align, _entsize in sections:
        if kind == _SHT_DYNAMIC:
            strtab = sections[link][4]
            for pos in range(offset, offset + size, 16):
                tag, val = struct.unpack_from("<qQ", data, pos)
                if tag == 0:
                    break
                if tag == _DT_NEEDED:
                    needed.append(_cstr(data, strtab + val))
            continue
        if kind != _SHT_GNU_VERNEED:
            continue
        strtab = sections[link][4]
        pos = offset
        for _ in range(count):
            _ver, aux_count, _file, aux, nxt = struct.unpack_from("<HHIII", data, pos)
            apos = pos + aux
            for _ in range(aux_count):
                _hash, _aflags, _other, name, anext = struct.unpack_from("<IHHII", data, apos)
                m = re.fullmatch(r"GLIBC_(\d+)\.(\d+)(?:\.\d+)?", _cstr(data, strtab + name))
                if m:
                    versions.append((int(m.group(1)), int(m.group(2))))
                apos += anext
            pos += nxt
    return versions, needed


def platform_tag(binary: Path) -> str:
    data = binary.read_bytes()
    if data[:4] != b"\x7fELF":
        raise RuntimeError(f"{binary} is not an ELF executable; set AIMOCK_WHEEL_PLATFORM to tag it")
    if data[4] != 2 or data[5] != 1:
        raise RuntimeError(f"{binary}: only 64-bit little-endian ELF is read; set AIMOCK_WHEEL_PLATFORM")
    machine = struct.unpack_from("<H", data, 0x12)[0]
    arch = _ARCHES.get(machine)
    if arch is None:
        raise RuntimeError(f"{binary}: unknown ELF machine {machine}; set AIMOCK_WHEEL_PLATFORM")
    info = _dynamic_info(data)
    if info is None:
        # No section headers (sstrip): the version strings are still in .dynstr; the libraries
        # cannot be checked, so only the generic tag is honest.
        return f"linux_{arch}"
    versions, needed = info
    foreign = [lib for lib in needed if lib not in _MANYLINUX_LIBS and not lib.startswith("ld-linux")]
    if not versions or foreign:
        # No glibc (static or musl), or a library outside the manylinux set: a plain linux tag.
        return f"linux_{arch}"
    major, minor = max(versions)
    return f"manylinux_{major}_{minor}_{arch}"


class AimockBinaryHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        default = Path(self.root).parent / "target" / "release" / "aimock"
        binary = Path(os.environ.get("AIMOCK_WHEEL_BINARY") or default).resolve()
        if not binary.is_file():
            raise RuntimeError(
                f"no aimock binary at {binary}: run `cargo build --release` first, "
                "or point AIMOCK_WHEEL_BINARY at one"
            )
        if not os.access(binary, os.X_OK):
            raise RuntimeError(f"{binary} is not executable")
        platform = os.environ.get("AIMOCK_WHEEL_PLATFORM") or platform_tag(binary)
        build_data["pure_python"] = False
        build_data["tag"] = f"py3-none-{platform}"
        build_data["shared_scripts"][str(binary)] = "aimock"
