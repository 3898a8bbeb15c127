"""``python -m aimock_rs [ARGS]`` runs the aimock binary with ARGS."""

import os
import sys

from aimock_rs._binary import find_binary


def main() -> None:
    binary = str(find_binary())
    if os.name == "posix":
        os.execv(binary, [binary, *sys.argv[1:]])
    import subprocess

    sys.exit(subprocess.call([binary, *sys.argv[1:]]))


if __name__ == "__main__":
    main()
