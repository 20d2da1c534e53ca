"""A store with a run of each engine, the gallery serving it on loopback, and Debian's Chromium."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = os.environ.get("PRIMORDIUM_CHROMIUM", "/usr/bin/chromium")
# The machine's network is closed: without these Chromium keeps trying to phone home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _asal_like_run(store):
    """A run shaped like an ASAL illumination run (a poster first, videos, curves), written by hand.

    The ASAL quickstart makes no poster; the gallery only reads files and
    metrics, so this exercises the page an illumination run gets.
    """
    from primordium.viz import save_png, save_video

    run = store.create(
        "asal",
        {"substrate": "lenia", "model": "pixels", "objective": "illumination", "seed": 0},
        name="illumination-shaped run (hand-made)",
    )
    rng = np.random.default_rng(0)
    frames = (rng.random((12, 64, 64, 3)) * 255).astype(np.uint8)
    save_video(frames, run.artifact("video.mp4"), fps=6)
    save_video(frames, run.artifact("video.gif"), fps=6)
    save_png(np.kron(rng.random((4, 8, 3)), np.ones((32, 32, 1))), run.artifact("poster.png"))
    for step in range(20):
        run.log(step, loss=float(np.exp(-step / 5)), best=float(1 - np.exp(-step / 5)))
    run.update_summary(best=0.98, generations=20)
    run.set_status("finished")
    return run


def build_gallery_store(home: Path) -> dict[str, str]:
    """Real runs where the engines exist (Core War, soup, DRQ), plus the damaged ones the page must survive."""
    from primordium.corewar.experiment import run_tournament
    from primordium.soup.experiment import Schedule, run_soup
    from primordium.soup.soup import SoupConfig
    from primordium.store import Store

    store = Store(home)
    ids = {}
    run, _ = run_tournament(store, rounds=20, seed=1, name="classic warriors")
    ids["corewar"] = run.id
    run, _ = run_soup(
        store,
        SoupConfig(programs=256, seed=1),
        Schedule(
            epochs=64, log_every=8, checkpoint_every=32, snapshot_every=16, snapshot_programs=64
        ),
        name="tiny soup",
    )
    assert (run.dir / "census.json").is_file()  # the soup run writes its census itself
    ids["soup"] = run.id
    # Every engine is part of the tree: an import that fails is a bug to see, not a page to skip.
    from primordium.asal.experiment import quickstart_run as asal_quickstart
    from primordium.redqueen.loop import quickstart_run as drq_quickstart

    ids["redqueen"] = drq_quickstart(store, seed=0).id
    ids["asal"] = asal_quickstart(store, seed=0, gens=2).id
    ids["poster"] = _asal_like_run(store).id

    bad = store.create("soup", {"soup": {}}, name="garbage config")
    bad.write_text("config.json", "{ this is not json")
    bad.set_status("finished")
    ids["garbage"] = bad.id
    gone = store.create("corewar", {"kind": "tournament"}, name="folder removed")
    gone.set_status("finished")
    import shutil

    shutil.rmtree(gone.dir)
    ids["gone"] = gone.id
    store.close()
    return ids


@pytest.fixture(scope="session")
def gallery_store(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    home = tmp_path_factory.mktemp("gallery") / "home"
    return home, build_gallery_store(home)


class Server:
    """uvicorn in a thread on a free loopback port."""

    def __init__(self, home: Path):
        import uvicorn

        from primordium.cli.serve import bind_socket
        from primordium.web.app import create_app

        self.sock = bind_socket("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(create_app(home), log_level="warning", lifespan="off")
        )
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the gallery server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture(scope="session")
def server(gallery_store):
    with Server(gallery_store[0]) as s:
        yield s


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Debian's Chromium is missing at {CHROMIUM}: `make test` installs it "
            "(apt-get install chromium); never `playwright install`"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing: install the web extra (`make test` does)")

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh tab that records the page's JavaScript errors and requests that went beyond loopback."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.js_errors = []
    pg.outside = []
    pg.on("pageerror", lambda e: pg.js_errors.append(str(e)))
    pg.on(
        "console",
        lambda m: (
            pg.js_errors.append(m.text)
            if m.type == "error" and "status of 40" not in m.text
            else None
        ),
    )
    pg.on(
        "request",
        lambda r: (
            pg.outside.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "data:"))
            else None
        ),
    )
    yield pg
    context.close()
