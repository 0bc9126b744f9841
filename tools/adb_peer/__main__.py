"""A minimal ADB device peer for tests:

    python tools/adb_peer --sandbox DIR --adb-keys ~/.android/adbkey.pub [--port-file F]

It speaks the published ADB wire protocol (AOSP protocol.txt and SYNC.TXT) over TCP the way an
Android device's adbd does for `adb connect HOST:PORT`: CNXN with RSA authentication (only hosts
holding a private key whose public key is in --adb-keys get in; auth.py), the `shell:` service
(with the shell v2 protocol, so `adb shell` returns exit codes), `exec:` and `sync:` (push / pull /
stat / list). File access through sync is confined to the sandbox directory; shell commands start
in it. It runs whatever an authenticated host asks, so it listens on 127.0.0.1 only, on a free
port it picks itself (printed, and written to --port-file).
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as `python tools/adb_peer`

from auth import load_keys  # noqa: E402
from peer import Connection  # noqa: E402
from shell import make_shell_service  # noqa: E402
from sync import make_sync_service  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="minimal ADB device peer (tests only)")
    ap.add_argument("--sandbox", type=Path, required=True, help="directory the device serves")
    ap.add_argument("--adb-keys", type=Path, required=True,
                    help="public keys allowed in, one per line in adbkey.pub format (like adbd's adb_keys)")
    ap.add_argument("--port-file", type=Path, default=None, help="write the port here once listening")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="adb_peer: %(message)s")
    try:
        allowed = load_keys(args.adb_keys)
    except (OSError, ValueError) as e:
        ap.error(f"--adb-keys: {e}")
    sandbox = args.sandbox.resolve()
    sandbox.mkdir(parents=True, exist_ok=True)
    shell = make_shell_service(sandbox)
    services = {"shell": shell, "exec": shell, "sync": make_sync_service(sandbox)}
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port = srv.getsockname()[1]
    if args.port_file:
        tmp = args.port_file.with_suffix(".tmp")
        tmp.write_text(str(port))
        tmp.replace(args.port_file)
    print(f"adb_peer: listening on 127.0.0.1:{port}, sandbox {sandbox}, {len(allowed)} allowed key(s)", flush=True)
    try:
        while True:
            sock, _ = srv.accept()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Connection(sock, sandbox, services, allowed)
            threading.Thread(target=conn.serve, daemon=True).start()
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
