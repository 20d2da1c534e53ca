"""Make the pictures under docs/images/ from tiny real runs (about 3 minutes on 2 cores).

    PYTHONPATH=src python docs/images/make_images.py [--only figures|screenshots]

One PNG of each figure type the engines write, copied from the runs' own
files, and a screenshot of each engine's run page in the gallery (Playwright
driving Debian's Chromium at /usr/bin/chromium, or $PRIMORDIUM_CHROMIUM).
Every committed image is kept under 150 KB (larger ones are reduced to a
palette of 256 colours).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIMIT = 150_000
CHROMIUM = os.environ.get("PRIMORDIUM_CHROMIUM", "/usr/bin/chromium")

# A warrior whose name is not ASCII: the heat map and the replay must keep every letter.
UNICODE_WARRIOR = ";redcode-94\n;name Avançado\n;author primordium docs\n;assert 1\nMOV 0, 1\n"


def keep(src: Path, name: str) -> Path:
    """Copy ``src`` to docs/images/``name``, reduced to 256 colours if it is over the limit."""
    from PIL import Image

    out = HERE / name
    shutil.copyfile(src, out)
    if out.stat().st_size > LIMIT:
        with Image.open(out) as im:
            im.convert("RGB").quantize(256).save(out, optimize=True)
    if out.stat().st_size > LIMIT:
        raise SystemExit(f"{out.name} is {out.stat().st_size} bytes, over {LIMIT}")
    print(f"{out.name}: {out.stat().st_size // 1000} KB")
    return out


def make_runs(home: Path) -> dict[str, object]:
    from primordium.asal.config import AsalConfig
    from primordium.asal.experiment import quickstart_run as asal_quickstart
    from primordium.asal.experiment import run_search
    from primordium.corewar.experiment import run_tournament
    from primordium.corewar.warriors import builtin_warriors
    from primordium.redqueen.convergence import compare_runs
    from primordium.redqueen.evaluate import evaluate_run
    from primordium.redqueen.loop import quickstart_run as drq_quickstart
    from primordium.redqueen.plots import convergence_figure
    from primordium.soup.experiment import Schedule, run_soup
    from primordium.soup.soup import SoupConfig
    from primordium.soup.sweep import run_sweep
    from primordium.store import Store
    from primordium.viz import save

    store = Store(home)
    runs: dict[str, object] = {}
    extra = home / "avancado.red"
    extra.write_text(UNICODE_WARRIOR, "utf-8")
    files = [*builtin_warriors().values(), extra]
    runs["corewar"], _ = run_tournament(store, files, rounds=20, seed=1, name="classic warriors")
    runs["soup"], _ = run_soup(
        store,
        SoupConfig(programs=1024, seed=1),
        Schedule(
            epochs=512, log_every=16, checkpoint_every=256, snapshot_every=64, snapshot_programs=256
        ),
        name="BFF soup, 1024 programs",
    )
    runs["sweep"], _ = run_sweep(store, SoupConfig(programs=256), [0, 1, 2, 3], epochs=256)
    drq = [drq_quickstart(store, seed=s) for s in (0, 1)]
    runs["redqueen"] = drq[0]
    against = Path(files[0]).parent
    evaluate_run(drq[0], against, rounds=10, measure="pmars")
    conv = compare_runs(drq, against, rounds=10)
    save(convergence_figure(conv), home / "convergence.png")
    runs["asal"] = asal_quickstart(store, seed=0, gens=6)
    cfg = AsalConfig(
        substrate="life_like",
        substrate_options={"grid": 32},
        mode="illuminate",
        fm="pixels",
        pop=9,
        children=8,
        gens=3,
        steps=64,
        size=64,
        video=False,
    )
    runs["illumination"] = run_search(cfg, store)
    from primordium.learn.lifegpt import quickstart_run as lifegpt_quickstart

    runs["learn"] = lifegpt_quickstart(store, seed=0)
    store.close()
    return runs


def figures(home: Path, runs: dict) -> None:
    d = {k: r.dir for k, r in runs.items()}
    keep(d["corewar"] / "results.png", "corewar_heatmap.png")
    _gif_frame(d["corewar"] / "replay.gif", home / "replay.png")
    keep(home / "replay.png", "corewar_replay_frame.png")
    keep(d["soup"] / "curves.png", "soup_curves.png")
    keep(d["soup"] / "soup.png", "soup_snapshot.png")
    keep(d["sweep"] / "sweep.png", "soup_sweep.png")
    keep(d["redqueen"] / "fitness.png", "drq_fitness.png")
    keep(d["redqueen"] / "archives.png", "drq_archives.png")
    keep(d["redqueen"] / "generality.png", "drq_generality.png")
    keep(home / "convergence.png", "drq_convergence.png")
    keep(d["asal"] / "scores.png", "asal_scores.png")
    keep(d["asal"] / "best_so_far.png", "asal_best_so_far.png")
    _gif_frame(d["asal"] / "best.gif", home / "best.png")
    keep(home / "best.png", "asal_best_frame.png")
    keep(d["illumination"] / "best_so_far.png", "asal_illumination_so_far.png")
    _gif_frame(
        d["learn"] / "rollout.gif", home / "rollout.png", index=1
    )  # before the soup dies out
    keep(home / "rollout.png", "lifegpt_rollout_frame.png")


def _gif_frame(gif: Path, out: Path, index: int = -1) -> None:
    from PIL import Image

    with Image.open(gif) as im:
        im.seek(index % im.n_frames)
        im.convert("RGB").save(out)


def screenshots(home: Path, runs: dict) -> None:
    import uvicorn
    from playwright.sync_api import sync_playwright

    from primordium.cli.serve import bind_socket
    from primordium.web.app import create_app

    sock = bind_socket("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(create_app(home), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    pages = {
        "corewar": ".tournament table",
        "soup": "#census table",
        "redqueen": "#plots .chart",
        "asal": "#plots .chart",
        "learn": "#plots .chart",
    }
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
            page = browser.new_page(viewport={"width": 1100, "height": 1000})
            page.goto(url + "/")
            page.wait_for_selector(".card")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(home / "gallery_list.png"))
            keep(home / "gallery_list.png", "gallery_list.png")
            for engine, selector in pages.items():
                page.goto(f"{url}/run/{runs[engine].id}")
                page.wait_for_selector(selector)
                page.wait_for_load_state("networkidle")
                shot = home / f"gallery_{engine}.png"
                page.screenshot(path=str(shot))
                keep(shot, f"gallery_{engine}.png")
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=("figures", "screenshots"))
    only = ap.parse_args().only
    with tempfile.TemporaryDirectory(prefix="primordium-images-") as tmp:
        home = Path(tmp)
        runs = make_runs(home)
        if only != "screenshots":
            figures(home, runs)
        if only != "figures":
            screenshots(home, runs)


if __name__ == "__main__":
    main()
