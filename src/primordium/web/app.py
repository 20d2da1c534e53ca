"""The gallery's server: a JSON view of the run store and the run folders' files, read-only.

The page itself (``static/``) is plain HTML, CSS and JavaScript that draws
everything from these endpoints:

- ``GET /api/runs``                 every run, newest first, with a thumbnail
- ``GET /api/runs/{id}``            one run: index row, files, problems
- ``GET /api/runs/{id}/metrics``    its metric rows (polled while it runs)
- ``GET /api/compare?runs=A,B&metric=M&x=X``  one metric of several runs, against one x column
- ``GET /files/{id}/{path}``        a file inside that run's folder, nothing else
"""

from __future__ import annotations

import errno
import json
import math
import mimetypes
import os
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response

from primordium.errors import StoreError
from primordium.store import Run, Store
from primordium.store.keys import is_bookkeeping, key_summary, numeric_columns
from primordium.store.reading import DamagedStore
from primordium.store.runs import BadCursor
from primordium.web import compare

STATIC = Path(__file__).resolve().parent / "static"
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]
# Files the browser may show inline; anything else is offered as a download so
# an .html or .svg someone put in a run cannot run script in the gallery's origin.
INLINE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".json": "application/json",
    ".jsonl": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".red": "text/plain; charset=utf-8",
    ".csv": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".toml": "text/plain; charset=utf-8",
    ".log": "text/plain; charset=utf-8",
}
CSP = (
    "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'"
)
# Which picture stands for a run in the list, best first.
THUMB_PREFERENCE = ("poster", "results.png", "soup.png", "fitness.png", "best", "curves.png")
IMAGE_SUFFIXES = (".png", ".gif", ".jpg", ".jpeg", ".webp")


class _Stores(threading.local):
    """One SQLite connection per server thread (sqlite3 connections stay in their thread)."""

    store: Store | None = None


def _finite(x: Any) -> Any:
    """JSON has no NaN or infinity; a metric that went non-finite is sent as null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return x


def _json(obj: Any, status: int = 200) -> Response:
    body = json.dumps(_finite(obj), allow_nan=False, separators=(",", ":"))
    return Response(
        body,
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def _top_files(folder: Path) -> list[dict]:
    try:
        out = []
        for e in sorted(os.scandir(folder), key=lambda e: e.name):
            if e.is_file() and not e.name.startswith("."):
                try:
                    out.append({"path": e.name, "mtime": e.stat().st_mtime})
                except OSError:
                    continue  # removed between the scan and the stat
        return out
    except OSError:
        return []


def _latest_picture(files: list[dict]) -> dict | None:
    """The picture written last: what a running run shows of itself (a soup snapshot, a best-so-far)."""
    images = [f for f in files if f["path"].lower().endswith(IMAGE_SUFFIXES)]
    return max(images, key=lambda f: f["mtime"], default=None)


def _thumbnail(files: list[dict]) -> str | None:
    images = [
        f["path"]
        for f in files
        if f["path"].lower().endswith(IMAGE_SUFFIXES) and not f["path"].startswith("snapshots/")
    ]
    for key in THUMB_PREFERENCE:
        for p in images:
            if key in p.rsplit("/", 1)[-1].lower():
                return p
    return images[0] if images else None


def create_app(
    home: str | Path | None = None, *, loopback_only: bool = True, hosts: tuple[str, ...] = ()
) -> FastAPI:
    """The gallery for the store at ``home``; StoreError at once if it is not a store.

    With ``loopback_only`` requests must name a loopback host (those usual
    spellings, plus ``hosts``: the one the server was started with), so a web
    page elsewhere cannot reach the store through DNS rebinding.
    """
    first = Store(home, create=False)  # fail now, on the command line, not on the first request
    home = first.home
    first.close()
    stores = _Stores()

    def store() -> Store:
        if stores.store is None:
            stores.store = Store(home, create=False)
        return stores.store

    app = FastAPI(title="primordium gallery", docs_url=None, redoc_url=None, openapi_url=None)
    if loopback_only:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        allowed = LOOPBACK_HOSTS + [h for h in hosts if h not in LOOPBACK_HOSTS]
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed)

    @app.middleware("http")
    async def headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> Response:
        # A run that exists but no longer reads back is not "not found".
        status = (
            400
            if isinstance(exc, BadCursor | compare.BadQuery)
            else 422
            if isinstance(exc, DamagedStore)
            else 404
        )
        return _json({"error": str(exc)}, status)

    @app.exception_handler(Exception)
    async def any_error(request: Request, exc: Exception) -> Response:
        # A bug or a damaged file must not become a traceback page: one line here, the traceback in uvicorn's log.
        return _json(
            {"error": f"internal error ({type(exc).__name__}: {exc})".replace("\n", " ")}, 500
        )

    def page() -> FileResponse:
        return FileResponse(
            STATIC / "index.html",
            media_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return page()

    @app.get("/compare", include_in_schema=False)
    def compare_page() -> FileResponse:
        return page()

    @app.get("/run/{run_id}", include_in_schema=False)
    def run_page(run_id: str) -> FileResponse:
        return page()  # the page asks the API and shows a message if the run is missing

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        path = STATIC / name
        if "/" in name or name.startswith(".") or "\x00" in name or len(name) > 255:
            return _json({"error": f"no such file {name[:200]!r}"}, 404)
        if not path.is_file():
            return _json({"error": f"no such file {name!r}"}, 404)
        media = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return FileResponse(path, media_type=media, headers={"Cache-Control": "no-cache"})

    @app.get("/api/runs")
    def list_runs(engine: str | None = None) -> Response:
        s = store()
        runs = []
        for row in s.list(engine=engine):
            run = s.open(row["id"])
            # Thumbnails come from the top of the run folder: a scan, not a walk of every snapshot.
            top = [] if run.dir.is_symlink() else _top_files(run.dir)
            # A running run shows its newest picture; a finished one its best-named one.
            latest = _latest_picture(top) if row["status"] == "running" else None
            row["thumbnail"] = latest["path"] if latest else _thumbnail(top)
            mtimes = {f["path"]: f["mtime"] for f in top}
            row["thumbnail_mtime"] = mtimes.get(row["thumbnail"])
            row["key_summary"] = key_summary(row["engine"], row["summary"])
            row["problems"] = run.problems()
            runs.append(row)
        return _json({"home": str(s.home.resolve()), "runs": runs})

    @app.get("/api/runs/{run_id}")
    def get_run(run_id: str) -> Response:
        run = _open_exact(store(), run_id)
        info = run.info()
        # A linked run folder is not served, so its file names are not listed either.
        info["files"] = [] if run.dir.is_symlink() else run.files()
        info["problems"] = run.problems()
        info["thumbnail"] = _thumbnail(info["files"])
        info["latest_picture"] = _latest_picture(info["files"])
        info["key_summary"] = key_summary(info["engine"], info["summary"])
        info["home"] = str(store().home.resolve())
        return _json(info)

    @app.get("/api/runs/{run_id}/metrics")
    def get_metrics(run_id: str, since: str | None = None) -> Response:
        """Rows after cursor ``since`` (none: all, sorted by step); pollers pass back ``cursor``."""
        run = _open_exact(store(), run_id)
        rows, cursor, count = run.metrics_since(since)
        if not since:
            rows.sort(
                key=lambda r: r["step"]
            )  # stable: equal steps keep logging order, as Run.metrics()
        names = {k for r in rows for k in numeric_columns(r)}
        return _json(
            {
                "id": run.id,
                "status": run.status,
                "rows": rows,
                "cursor": cursor,
                "count": count,
                # Columns of these rows that are counters or clocks: charted only on request.
                "bookkeeping": sorted(k for k in names if is_bookkeeping(k)),
            }
        )

    @app.get("/api/compare")
    def get_compare(
        runs: str | None = None, metric: str | None = None, x: str = "step"
    ) -> Response:
        """One metric of several runs against one x column; ``columns`` lists what can be chosen."""
        s = store()
        chosen = [_open_exact(s, rid) for rid in compare.parse_ids(runs)]
        tables = [run.metrics() for run in chosen]
        cols = compare.columns(tables)
        if cols:  # runs without a single metric row yet have nothing to choose from
            compare.check_column("x", x, cols)
        if metric is None:
            metric = compare.default_metric(cols, [run.engine for run in chosen])
        else:
            compare.check_column("metric", metric, cols)
        out = []
        for run, rows in zip(chosen, tables, strict=True):
            info = run.info()
            xs, ys = compare.series(rows, metric, x) if metric else ([], [])
            out.append(
                {
                    "id": run.id,
                    "name": info["name"],
                    "engine": info["engine"],
                    "status": info["status"],
                    "xs": xs,
                    "ys": ys,
                }
            )
        return _json({"metric": metric, "x": x, "columns": cols, "runs": out})

    @app.get("/files/{run_id}/{relpath:path}")
    def get_file(run_id: str, relpath: str) -> Response:
        run = _open_exact(store(), run_id)
        # The run's folder as the store names it, not as a symlink would have it: the final
        # resolved path of the file must lie under it, whatever was linked along the way.
        root = store().runs_dir.resolve() / run.id
        refused = _json({"error": "refused: that path is outside the run folder"}, 403)
        if "\x00" in relpath:
            return _json({"error": "refused: a path with a NUL byte"}, 400)
        try:
            target = (root / relpath).resolve(strict=True)
            is_file = target.is_file()
        except RuntimeError:  # Python 3.11 reports a symlink loop so
            return refused
        except OSError as e:
            if e.errno == errno.ENAMETOOLONG:
                return _json({"error": "refused: a path name too long"}, 400)
            if e.errno == errno.ELOOP:
                return refused
            return _json({"error": f"run {run.id} has no file {relpath[:200]!r}"}, 404)
        if not target.is_relative_to(root) or any(
            part.startswith(".") for part in target.relative_to(root).parts
        ):
            return refused
        if not is_file:
            return _json({"error": f"run {run.id} has no file {relpath[:200]!r}"}, 404)
        suffix = target.suffix.lower()
        media = INLINE_TYPES.get(suffix)
        headers = {"Cache-Control": "no-cache"}
        if media is None:
            return FileResponse(
                target, media_type="application/octet-stream", filename=target.name, headers=headers
            )
        return FileResponse(target, media_type=media, headers=headers)

    @app.get("/{rest:path}", include_in_schema=False)
    def not_found(rest: str) -> Response:
        return _json({"error": f"nothing at /{rest}"}, 404)

    return app


def _open_exact(s: Store, run_id: str) -> Run:
    """The run with exactly this id: URLs are links, not typed prefixes."""
    run = s.open(run_id)
    if run.id != run_id:
        raise StoreError(f"no run {run_id!r} in {s.home}")
    return run
