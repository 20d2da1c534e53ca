"""`primordium serve`: the web gallery of the run store."""

from __future__ import annotations

import errno
import ipaddress
import socket
from pathlib import Path

import typer

from primordium.errors import ConfigError


def _is_loopback(host: str) -> bool:
    """Whether every address ``host`` stands for is loopback (127.0.0.0/8, ::1).

    The host is resolved as the socket will be, so short forms such as
    ``127.1`` and names such as ``localhost`` count, not only the usual spelling.
    """
    try:
        infos = socket.getaddrinfo(host.strip("[]"), None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        return False  # bind_socket says why, in one line
    addrs = {str(info[4][0]).split("%", 1)[0] for info in infos}
    try:
        return bool(addrs) and all(ipaddress.ip_address(a).is_loopback for a in addrs)
    except ValueError:
        return False


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket, or a one-line ConfigError (port in use, bad host)."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port {port} is not a port (0..65535)")
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM
        )[0]
    except socket.gaierror as e:
        raise ConfigError(f"--host {host!r}: cannot resolve ({e.strerror})") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
        sock.listen(128)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is in use; stop what holds it or pick another with --port"
            ) from None
        if e.errno == errno.EACCES:
            raise ConfigError(
                f"port {port} on {host}: permission denied (ports below 1024 need root)"
            ) from None
        raise ConfigError(f"cannot listen on {host}:{port} ({e.strerror})") from None
    sock.set_inheritable(True)
    return sock


def serve(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (loopback only by default)."
    ),
    port: int = typer.Option(8765, "--port", "-p", help="Port to listen on."),
    home: Path | None = typer.Option(
        None,
        "--home",
        help="The store's folder (default: $PRIMORDIUM_HOME, else the current folder).",
    ),
) -> None:
    """Open the web gallery of the run store (read-only) at http://HOST:PORT/."""
    try:
        import uvicorn

        from primordium.web.app import create_app
    except ImportError as e:
        raise ConfigError(
            f"the gallery needs the 'web' extra (pip install 'primordium[web]'): {e}"
        ) from None

    loopback = _is_loopback(host)
    app = create_app(
        home, loopback_only=loopback, hosts=(host,)
    )  # a StoreError here if the folder is not a store
    sock = bind_socket(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    from rich.console import Console

    err = Console(stderr=True, highlight=False)
    err.print(
        f"primordium gallery at [bold]http://{shown}:{bound}/[/bold]  (store: {Path(home).resolve() if home else _home()}; Ctrl-C to stop)"
    )
    if not loopback:
        err.print(
            "[yellow]warning:[/yellow] listening beyond this machine: anyone who can reach it can read every run"
        )
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


def _home() -> Path:
    from primordium.store.runs import default_home

    return default_home().resolve()
