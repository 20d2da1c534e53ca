"""The gallery as a person uses it, in Debian's Chromium: list, run pages, live refresh, bad URLs."""

from __future__ import annotations

import os
import re
import threading
import time

import pytest

from primordium.store import Store

# One worker builds the gallery's store and starts Chromium (session fixtures)
# once: ONE_WORKER in tests/conftest.py.


def _images_loaded(page, selector: str) -> list[dict]:
    return page.eval_on_selector_all(
        selector,
        "els => els.map(e => ({src: e.getAttribute('src'), ok: e.complete && e.naturalWidth > 0}))",
    )


def _wait_images(page, selector: str) -> list[dict]:
    page.wait_for_function(
        f"() => [...document.querySelectorAll({selector!r})].every(e => e.complete)", timeout=15_000
    )
    return _images_loaded(page, selector)


def test_list_shows_every_run_with_status_engine_and_thumbnail(page, server, gallery_store):
    _, ids = gallery_store
    page.goto(server.url + "/")
    page.wait_for_selector(".card")
    cards = page.query_selector_all(".card")
    assert {c.get_attribute("data-run") for c in cards} == set(ids.values())
    for engine, rid in ids.items():
        card = page.query_selector(f'.card[data-run="{rid}"]')
        badges = [b.inner_text() for b in card.query_selector_all(".badge")]
        if engine in ("corewar", "soup", "redqueen", "asal", "poster"):
            assert {"asal" if engine == "poster" else engine, "finished"} <= set(badges), (
                engine,
                badges,
            )
    assert "damaged" in page.query_selector(f'.card[data-run="{ids["garbage"]}"]').inner_text()
    thumbs = _wait_images(page, ".card .thumb img")
    assert len(thumbs) >= 4 and all(t["ok"] for t in thumbs), thumbs
    # Engine chips filter the cards.
    page.click("button.chip:has-text('corewar')")
    shown = {c.get_attribute("data-run") for c in page.query_selector_all(".card")}
    assert ids["corewar"] in shown and ids["soup"] not in shown
    assert not page.js_errors and not page.outside


def test_corewar_page_shows_tournament_sources_heatmap_and_replay(page, server, gallery_store):
    _, ids = gallery_store
    page.goto(f"{server.url}/run/{ids['corewar']}")
    page.wait_for_selector(".tournament table")
    rows = page.query_selector_all(".tournament tbody tr")
    assert len(rows) == 4
    names = {r.query_selector_all("td")[1].inner_text() for r in rows}
    assert names == {"Dwarf", "Imp", "Paper", "Scanner"}
    imgs = _wait_images(page, "#media img")
    srcs = {i["src"].split("?")[0].rsplit("/", 1)[-1] for i in imgs if i["ok"]}
    assert {"results.png", "replay.gif"} <= srcs, imgs
    page.wait_for_function(
        "() => document.querySelectorAll('#warriors pre.source').length === 4 && "
        "[...document.querySelectorAll('#warriors pre.source')].every(p => p.textContent.includes(';name'))"
    )
    assert "mov.i   $0, $1" in page.inner_text("#warriors")  # the Imp's source, as written
    assert not page.js_errors and not page.outside


def test_soup_page_shows_pictures_entropy_curves_and_census(page, server, gallery_store):
    _, ids = gallery_store
    page.goto(f"{server.url}/run/{ids['soup']}")
    page.wait_for_selector("#plots .chart")
    titles = [
        t.inner_text()
        for t in page.query_selector_all("#plots .chart figcaption > span:first-child")
    ]
    assert "high_order_entropy" in titles and "h0" in titles
    # The first chart is entropy, drawn from the metric rows (a path with one point per row).
    d = page.get_attribute("#plots .chart path.series", "d")
    assert d.count("L") >= 7  # 9 rows (epoch 0 and every 8th) make at least 8 segments
    imgs = _wait_images(page, "#media img")
    srcs = {i["src"].split("?")[0].rsplit("/", 1)[-1] for i in imgs if i["ok"]}
    assert {"soup.png", "soup.gif", "curves.png"} <= srcs, imgs
    page.wait_for_selector("#census table")
    programs = page.query_selector_all("#census table")[0]
    assert len(programs.query_selector_all("tbody tr")) == 10
    assert "replicates" in programs.inner_text()  # the soup's own self-replication flags are shown
    assert not page.js_errors and not page.outside


def test_redqueen_page_shows_champions_and_plots(page, server, gallery_store):
    _, ids = gallery_store
    page.goto(f"{server.url}/run/{ids['redqueen']}")
    page.wait_for_selector("#warriors details")
    assert "champions/round_001.red" in page.inner_text("#warriors")
    imgs = _wait_images(page, "#media img")
    assert imgs and all(i["ok"] for i in imgs), imgs
    page.wait_for_selector("#plots .chart")
    assert not page.js_errors and not page.outside


def test_asal_page_plays_the_best_video(page, server, gallery_store):
    _, ids = gallery_store
    page.goto(f"{server.url}/run/{ids['asal']}")
    page.wait_for_selector("#media video")
    page.wait_for_function(
        "() => document.querySelector('#media video').readyState >= 1", timeout=15_000
    )
    assert page.eval_on_selector("#media video", "v => v.videoWidth") > 0
    imgs = _wait_images(page, "#media img")
    assert imgs and all(i["ok"] for i in imgs), imgs
    page.wait_for_selector("#plots .chart")
    assert not page.js_errors and not page.outside


def test_illumination_page_plays_video_and_shows_poster(page, server, gallery_store):
    _, ids = gallery_store
    page.goto(f"{server.url}/run/{ids['poster']}")
    page.wait_for_selector("#media video")
    page.wait_for_function(
        "() => document.querySelector('#media video').readyState >= 1", timeout=15_000
    )
    assert page.eval_on_selector("#media video", "v => v.videoWidth") == 64
    # The poster comes first and spans the row.
    first = page.query_selector("#media figure")
    assert "poster.png" in first.get_attribute("data-path") and "wide" in first.get_attribute(
        "class"
    )
    assert all(i["ok"] for i in _wait_images(page, "#media img"))
    assert not page.js_errors and not page.outside


def test_running_run_refreshes_live(page, server, gallery_store):
    home, _ = gallery_store
    store = Store(home)
    run = store.create(
        "soup", {"soup": {"lang": "bff"}}, name="live run"
    )  # our pid: it reads as running
    for step in range(3):
        run.log(step, high_order_entropy=0.1 * step)
    try:
        page.goto(f"{server.url}/run/{run.id}")
        page.wait_for_selector("#plots .chart")
        assert page.is_visible("#live")
        assert "3 rows" in page.inner_text("#plots h2")

        def write_more():
            # As an engine would: its own process (here thread) with its own connection.
            writer = Store(home)
            live = writer.open(run.id)
            for step in range(3, 8):
                live.log(step, high_order_entropy=0.1 * step)
                time.sleep(0.2)
            live.write_bytes("later.png", _png())
            writer.close()

        t = threading.Thread(target=write_more)
        t.start()
        page.wait_for_function(
            "() => document.querySelector('#plots h2').textContent.includes('8 rows')",
            timeout=15_000,
        )
        t.join()
        assert page.inner_text("#plots .readout") == "last 0.7000"
        # A resume drops the rows after its checkpoint and logs again: the page follows, no stale rows.
        run.truncate_metrics(4)
        run.log(5, high_order_entropy=0.55)
        page.wait_for_function(
            "() => document.querySelector('#plots h2').textContent.includes('6 rows')",
            timeout=15_000,
        )
        assert page.inner_text("#plots .readout") == "last 0.5500"
        # New files show up too, and when the run ends the page says so and stops polling.
        run.set_status("finished")
        page.wait_for_selector("#runhead .status-finished", timeout=15_000)
        page.wait_for_selector('#media figure[data-path="later.png"]', timeout=15_000)
        assert not page.is_visible("#live")
    finally:
        store.remove(run.id)
        store.close()
    assert not page.js_errors and not page.outside


def _png(side: int = 8) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (side, side), (200, 40, 40)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    "tail",
    [
        "..%2F..%2Fprimordium.db",
        "../../primordium.db",
        "%2e%2e/%2e%2e/primordium.db",
        "..%2F" * 12 + "etc%2Fpasswd",
    ],
)
def test_traversal_urls_are_refused_in_the_browser(page, server, gallery_store, tail):
    _, ids = gallery_store
    response = page.goto(f"{server.url}/files/{ids['corewar']}/{tail}")
    assert response.status in (403, 404)
    body = page.inner_text("body")
    assert "SQLite" not in body and "root:" not in body
    assert "refused" in body or "nothing at" in body or "no file" in body


def test_corrupt_and_missing_runs_show_a_clear_message(page, server, gallery_store):
    _, ids = gallery_store
    page.goto(f"{server.url}/run/{ids['garbage']}")
    page.wait_for_selector(".problem")
    assert re.search(r"damaged config\.json \(not JSON", page.inner_text(".problem"))
    assert page.inner_text("h1") == "garbage config"

    page.goto(f"{server.url}/run/{ids['gone']}")
    page.wait_for_selector(".problem")
    assert "run folder" in page.inner_text(".problem") and "missing" in page.inner_text(".problem")

    page.goto(f"{server.url}/run/corewar-00000000-000000-nosuch")
    page.wait_for_selector(".message")
    text = page.inner_text(".message")
    assert "Cannot show run" in text and "no run 'corewar-00000000-000000-nosuch'" in text
    assert "Traceback" not in page.content()
    assert not page.js_errors and not page.outside


# -- issue 15: comparing runs, key summaries, pictures of running runs --


def _soup_like(store, name: str, scale: float):
    run = store.create("soup", {"soup": {"lang": "bff"}}, name=name)
    for e in range(6):
        run.log(e * 8, epoch=e * 8, elapsed=scale * e * e, high_order_entropy=scale * e**3)
    run.update_summary(transition_epoch=16, high_order_entropy=scale * 25)
    run.set_status("finished")
    return run


def _wait_caption(page, text: str) -> None:
    page.wait_for_function(
        "t => (document.querySelector('.compare .chart figcaption') || {}).textContent === t",
        arg=text,
    )


def _options(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(f"{selector} option", "os => os.map(o => o.value)")


def test_compare_two_runs_overlay_switch_x_and_bookkeeping(page, server, gallery_store):
    home, _ = gallery_store
    store = Store(home)
    a, b = _soup_like(store, "compare me A", 1.0), _soup_like(store, "compare me B", 0.5)
    try:
        page.goto(server.url + "/")
        page.wait_for_selector(f'input[data-pick="{a.id}"]')
        assert page.is_visible("#compare-hint") and not page.query_selector("#compare")
        page.check(f'input[data-pick="{a.id}"]')
        page.check(f'input[data-pick="{b.id}"]')
        page.click("#compare")
        page.wait_for_selector(".compare .chart path.series")
        paths = page.query_selector_all(".compare .chart path.series")
        assert {p.get_attribute("data-run") for p in paths} == {a.id, b.id}
        assert "compare me A" in page.inner_text(".chart .legend")
        assert page.input_value("#metric") == "high_order_entropy"
        # Bookkeeping (the epoch counter, the clock) is an x-axis, not a metric, until asked for.
        assert "elapsed" not in _options(page, "#metric") and "epoch" not in _options(
            page, "#metric"
        )
        assert {"step", "epoch", "elapsed"} <= set(_options(page, "#xaxis"))
        before = page.get_attribute(f'.chart path[data-run="{a.id}"]', "d")
        page.select_option("#xaxis", "elapsed")
        _wait_caption(page, "high_order_entropy against elapsed")
        assert "x=elapsed" in page.url
        assert page.get_attribute(f'.chart path[data-run="{a.id}"]', "d") != before
        page.check("#bookkeeping")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#metric option')].some(o => o.value === 'epoch')"
        )
        page.select_option("#metric", "epoch")
        _wait_caption(page, "epoch against elapsed")
        page.uncheck("#bookkeeping")
        page.wait_for_function(
            "() => document.querySelector('#metric') && "
            "document.querySelector('#metric').value === 'high_order_entropy'"
        )
        # A run's own page hides the same series until asked.
        page.goto(f"{server.url}/run/{a.id}")
        page.wait_for_selector("#plots .chart")
        titles = lambda: {  # noqa: E731
            t.inner_text()
            for t in page.query_selector_all("#plots .chart figcaption > span:first-child")
        }
        assert titles() == {"high_order_entropy"}
        page.check("#plots #bookkeeping")
        assert titles() == {"high_order_entropy", "elapsed"}  # epoch copies the step: never drawn
    finally:
        store.remove(a.id)
        store.remove(b.id)
        store.close()
    assert not page.js_errors and not page.outside


def test_cards_show_each_engines_key_summary(page, server, gallery_store):
    _, ids = gallery_store
    page.goto(server.url + "/")
    page.wait_for_selector(".card")

    def keys(rid):
        return [
            d.inner_text() for d in page.query_selector_all(f'.card[data-run="{rid}"] .facts dt')
        ]

    assert keys(ids["soup"])[0] == "transition_epoch"
    assert keys(ids["corewar"]) == ["champion", "champion_score"]
    champion = page.inner_text(f'.card[data-run="{ids["corewar"]}"] .facts dd')
    assert champion in {"Dwarf", "Imp", "Paper", "Scanner"}
    if "asal" in ids:
        assert keys(ids["asal"])[0] == "best_score"
    assert not page.js_errors and not page.outside


def _rewrite_picture(run, name: str, side: int, when: float) -> None:
    run.write_bytes(name, _png(side))
    os.utime(run.artifact(name), (when, when))  # a clearly newer time, whatever the clock's grain


def test_a_running_runs_picture_refreshes(page, server, gallery_store):
    home, _ = gallery_store
    store = Store(home)
    run = store.create("asal", {"substrate": "lenia"}, name="searching")  # our pid: running
    run.log(0, best_score=0.1)
    now = time.time()
    _rewrite_picture(run, "best_so_far.png", 8, now)
    width = "e => e.complete ? e.naturalWidth : 0"
    try:
        page.goto(server.url + "/")
        card_img = f'.card[data-run="{run.id}"] .thumb img'
        page.wait_for_selector(card_img)
        page.wait_for_function(f"() => document.querySelector({card_img!r}).naturalWidth === 8")
        _rewrite_picture(run, "best_so_far.png", 24, now + 5)
        page.wait_for_function(
            f"() => document.querySelector({card_img!r}).naturalWidth === 24", timeout=15_000
        )
        page.goto(f"{server.url}/run/{run.id}")
        page.wait_for_selector("#latest img")
        page.wait_for_function("() => document.querySelector('#latest img').naturalWidth === 24")
        # A different file written later takes the lead: whatever the run wrote last.
        _rewrite_picture(run, "soup_like_snapshot.png", 40, now + 10)
        page.wait_for_function(
            "() => document.querySelector('#latest img').naturalWidth === 40", timeout=15_000
        )
        assert page.get_attribute("#latest", "data-path") == "soup_like_snapshot.png"
        assert page.eval_on_selector("#latest img", width) == 40
    finally:
        store.remove(run.id)
        store.close()
    assert not page.js_errors and not page.outside
