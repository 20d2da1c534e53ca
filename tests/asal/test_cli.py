"""`primordium asal ...`: JSON outputs, render, and one-line errors for bad input."""

from __future__ import annotations

import json

import pytest

from primordium.cli import main

QUICK = [
    "--set",
    "grid=16",
    "--fm",
    "pixels",
    "--pop",
    "4",
    "--gens",
    "2",
    "--steps",
    "16",
    "--frames",
    "4",
    "--size",
    "16",
    "--no-video",  # nothing here watches the best simulation's video
    "--picture-every",
    "0",  # nor its best-so-far picture
]


def run_cli(capsys, *argv):
    try:
        main(["asal", *argv])
        code = 0
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def test_search_json(capsys, store_home):
    code, out, err = run_cli(
        capsys, "search", "--substrate", "life_like", "--mode", "open-endedness", *QUICK, "--json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) >= {"best_score", "best_params", "history", "run"}
    assert len(doc["best_params"]["rule"]) == 18 and len(doc["history"]) == 2
    assert "best " not in err and "2/2" not in err  # no bar when stderr is not a terminal


def test_search_shows_a_bar_per_generation_on_a_terminal(capsys, store_home, monkeypatch):
    # rich takes TTY_COMPATIBLE=1 as "stderr is a terminal": the bar a person would see.
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    code, out, err = run_cli(
        capsys, "search", "--substrate", "life_like", "--mode", "open-endedness", *QUICK
    )
    assert code == 0, err
    assert "life_like open-endedness" in err and "2/2" in err and "eta" in err
    best = out.split("best score ")[1].split()[0]
    assert f"best {best}" in err  # the best so far, as the run ends with it
    assert "best" not in out.replace("best score", "")  # stdout keeps the result only


def test_generation_bar_reports_the_lowest_score_and_respects_quiet(capsys, monkeypatch):
    from primordium.cli.output import Output

    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    rows = [{"best_score": 0.7}, {"score": 0.4}, {"score": 0.9}]
    with Output().generations("gens", 3) as on_generation:
        on_generation([])
        on_generation(rows)
    err = capsys.readouterr().err
    assert "best 0.4000" in err and "3/3" in err
    with Output(quiet=True).generations("gens", 3) as on_generation:
        on_generation(rows)
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    with Output().generations("gens", 3) as on_generation:
        on_generation(rows)
    assert capsys.readouterr() == ("", "")


def test_sweep_life_json_and_table(capsys, store_home):
    code, out, err = run_cli(
        capsys,
        "sweep-life",
        "--quick",
        "--sample",
        "40",
        "--grid",
        "16",
        "--steps",
        "16",
        "--batch",
        "16",
        "--bs",
        "2",
        "--top",
        "5",
        "--json",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert len(doc["rules"]) == 5 and doc["total"] == 40
    scores = [r["score"] for r in doc["rules"]]
    assert scores == sorted(scores)
    assert doc["conway"]["rule"] == "B3/S23" and 1 <= doc["conway"]["rank"] <= 40
    code, out, err = run_cli(
        capsys,
        "sweep-life",
        "--quick",
        "--sample",
        "20",
        "--grid",
        "16",
        "--steps",
        "16",
        "--batch",
        "16",
    )
    assert code == 0 and "B3/S23 (Conway's Life) ranks" in out


def test_sweep_life_defaults_are_the_papers(capsys, store_home, tmp_path, monkeypatch):
    from primordium.asal.experiment import SweepConfig

    c = SweepConfig().resolved()
    assert (c.substrate, c.fm, c.grid, c.steps, c.frames, c.bs, c.size) == (
        "gol",
        "clip",
        64,
        4096,
        32,
        16,
        224,
    )
    q = SweepConfig.quick().resolved()
    assert (q.substrate, q.fm, q.steps, q.frames, q.bs, q.size, q.batch) == (
        "life_like",
        "pixels",
        512,
        8,
        1,
        64,
        256,
    )
    # The default (CLIP) needs weights: offline and without them, one line, exit 2.
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    code, _, err = run_cli(capsys, "sweep-life", "--sample", "4")
    assert "openai/clip-vit-base-patch32" in _one_line_error(code, err)
    code, _, err = run_cli(capsys, "sweep-life", "--quick", "--bs", "0")
    assert "'bs'" in _one_line_error(code, err)
    code, _, err = run_cli(capsys, "sweep-life", "--quick", "--substrate", "lenia")
    assert "'substrate'" in _one_line_error(code, err)


def test_render_from_params_file_and_rule(capsys, store_home, tmp_path):
    code, out, _ = run_cli(
        capsys, "search", "--substrate", "life_like", "--mode", "open-endedness", *QUICK, "--json"
    )
    run_dir = store_home / "runs" / json.loads(out)["run"]
    gif = tmp_path / "v.gif"
    code, out, err = run_cli(
        capsys,
        "render",
        "--substrate",
        "life_like",
        "--set",
        "grid=16",
        "--params",
        str(run_dir / "best_params.json"),
        "--out",
        str(gif),
        "--steps",
        "20",
        "--frames",
        "5",
    )
    assert code == 0, err and gif.stat().st_size > 0
    from PIL import Image

    with Image.open(gif) as im:
        assert im.n_frames == 5
    code, _, err = run_cli(
        capsys,
        "render",
        "--substrate",
        "life_like",
        "--rule",
        "B36/S23",
        "--out",
        str(tmp_path / "h.mp4"),
        "--steps",
        "20",
        "--frames",
        "10",
        "--size",
        "64",
    )
    assert code == 0, err and (tmp_path / "h.mp4").stat().st_size > 0
    # The paper's gol takes the rule number itself.
    code, _, err = run_cli(
        capsys,
        "render",
        "--substrate",
        "gol",
        "--set",
        "grid_size=16",
        "--rule",
        "B3/S23",
        "--out",
        str(tmp_path / "c.gif"),
        "--steps",
        "8",
        "--frames",
        "2",
        "--size",
        "32",
    )
    assert code == 0, err
    code, _, err = run_cli(
        capsys,
        "render",
        "--substrate",
        "nca_d1",
        "--rule",
        "B3/S23",
        "--out",
        str(tmp_path / "n.gif"),
    )
    assert "--rule applies to" in _one_line_error(code, err)


def _one_line_error(code, err):
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    return lines[0]


@pytest.mark.parametrize(
    "argv, needle",
    [
        (
            ["search", "--substrate", "no_such_system", "--mode", "open-endedness"],
            "unknown substrate",
        ),
        (
            ["search", "--substrate", "life_like", "--mode", "open-endedness", "--fm", "clop:x"],
            "unknown foundation model",
        ),
        (
            ["search", "--substrate", "life_like", "--mode", "open-endedness", "--coef-oe", "lots"],
            "--coef-oe",
        ),
        (
            [
                "search",
                "--substrate",
                "life_like",
                "--mode",
                "open-endedness",
                "--coef-prompt",
                "nan",
            ],
            "coef_prompt",
        ),
        (
            [
                "search",
                "--substrate",
                "life_like",
                "--mode",
                "open-endedness",
                "--tiling",
                "spiral",
            ],
            "unknown tiling",
        ),
        (
            ["search", "--substrate", "life_like", "--mode", "open-endedness", "--bs", "0"],
            "bs must be",
        ),
        (
            [
                "search",
                "--substrate",
                "life_like",
                "--mode",
                "illuminate",
                "--pop",
                "2",
                "--children",
                "1",
                "--k-nbrs",
                "3",
            ],
            "--k-nbrs must be smaller than --pop + --children",
        ),
        (["search", "--substrate", "life_like", "--mode", "wander"], "unknown mode"),
        (
            ["search", "--substrate", "life_like", "--mode", "open-endedness", "--fm", "nope"],
            "unknown foundation model",
        ),
        (
            [
                "search",
                "--substrate",
                "life_like",
                "--mode",
                "target",
                "--prompt",
                "a cat",
                "--fm",
                "pixels",
            ],
            "pixels",
        ),
        (["search", "--substrate", "life_like", "--mode", "target", "--fm", "pixels"], "--prompt"),
        (
            ["search", "--substrate", "life_like", "--mode", "open-endedness", "--set", "grid"],
            "KEY=VALUE",
        ),
        (["render", "--substrate", "life_like", "--rule", "B3/S2x", "--out", "x.gif"], "malformed"),
        (
            ["render", "--substrate", "life_like", "--rule", "B3/S23", "--out", "x.avi"],
            "unsupported",
        ),
        (["search", "--resume", "nope"], "no run"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, store_home, argv, needle):
    code, _, err = run_cli(capsys, *argv)
    assert needle in _one_line_error(code, err)


def test_params_file_of_the_wrong_shape(capsys, store_home, tmp_path):
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps({"substrate": "life_like", "flat": [0.5] * 7}))
    code, _, err = run_cli(
        capsys,
        "render",
        "--substrate",
        "life_like",
        "--params",
        str(bad),
        "--out",
        str(tmp_path / "a.gif"),
    )
    assert "7 values" in _one_line_error(code, err)
    bad.write_text(json.dumps({"substrate": "lenia", "flat": [0.5] * 18}))
    code, _, err = run_cli(
        capsys,
        "render",
        "--substrate",
        "life_like",
        "--params",
        str(bad),
        "--out",
        str(tmp_path / "a.gif"),
    )
    assert "lenia" in _one_line_error(code, err)
    bad.write_text("{not json")
    code, _, err = run_cli(
        capsys,
        "render",
        "--substrate",
        "life_like",
        "--params",
        str(bad),
        "--out",
        str(tmp_path / "a.gif"),
    )
    assert "not JSON" in _one_line_error(code, err)


def test_missing_clip_weights_offline(capsys, store_home, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    code, _, err = run_cli(
        capsys, "search", "--substrate", "life_like", "--mode", "target", "--prompt", "a cat"
    )
    assert "openai/clip-vit-base-patch32" in _one_line_error(code, err)
    code, _, err = run_cli(
        capsys,
        "search",
        "--substrate",
        "life_like",
        "--mode",
        "target",
        "--prompt",
        "a cat",
        "--fm-weights",
        str(tmp_path / "missing"),
    )
    _one_line_error(code, err)


def test_clip_search_with_local_weights(capsys, store_home, tiny_clip_dir):
    code, out, err = run_cli(
        capsys,
        "search",
        "--substrate",
        "life_like",
        "--mode",
        "target",
        "--prompt",
        "a glider",
        "--prompt",
        "a still life",
        "--fm",
        "clip",
        "--fm-weights",
        str(tiny_clip_dir),
        "--set",
        "grid=16",
        "--pop",
        "4",
        "--gens",
        "2",
        "--steps",
        "16",
        "--frames",
        "4",
        "--size",
        "32",
        "--softmax",
        "--no-video",
        "--picture-every",
        "0",
        "--json",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert len(doc["history"]) == 2 and doc["best_score"] >= 0  # softmax loss is a cross-entropy


def test_toml_config_with_flag_overrides(capsys, store_home, tmp_path):
    cfg = tmp_path / "asal.toml"
    cfg.write_text(
        '[asal]\nsubstrate = "life_like"\nmode = "open-endedness"\nfm = "pixels"\npop = 4\ngens = 3\n'
        "steps = 16\nframes = 4\nsize = 16\nvideo = false\nsubstrate_options = { grid = 16 }\n"
    )
    code, out, err = run_cli(capsys, "search", "--config", str(cfg), "--gens", "1", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert len(doc["history"]) == 1
    cfg.write_text('substrate = "life_like"\npopulation = 4\n')
    code, _, err = run_cli(capsys, "search", "--config", str(cfg))
    assert "population" in _one_line_error(code, err) and str(cfg) in err
    cfg.write_text('substrate = "life\n')
    code, _, err = run_cli(capsys, "search", "--config", str(cfg))
    assert "bad TOML" in _one_line_error(code, err)


def test_coefficient_of_the_wrong_type_in_toml(capsys, store_home, tmp_path):
    cfg = tmp_path / "asal.toml"
    cfg.write_text('substrate = "life_like"\nmode = "target"\ncoef_softmax = "high"\n')
    code, _, err = run_cli(capsys, "search", "--config", str(cfg))
    assert "'coef_softmax' must be a number" in _one_line_error(code, err)


def test_params_file_of_the_wrong_pytree(capsys, store_home, tmp_path):
    bad = tmp_path / "p.json"
    bad.write_text(
        json.dumps({"substrate": "life_like", "params": {"rule": [[0.5] * 6] * 3, "extra": [1.0]}})
    )
    code, _, err = run_cli(
        capsys,
        "render",
        "--substrate",
        "life_like",
        "--params",
        str(bad),
        "--out",
        str(tmp_path / "a.gif"),
    )
    assert "do not fit substrate 'life_like'" in _one_line_error(code, err)
    bad.write_text(json.dumps({"substrate": "life_like", "params": {"rule": [0.5] * 7}}))
    code, _, err = run_cli(
        capsys,
        "render",
        "--substrate",
        "life_like",
        "--params",
        str(bad),
        "--out",
        str(tmp_path / "a.gif"),
    )
    assert "do not fit substrate 'life_like'" in _one_line_error(code, err)


def test_objective_and_ga_flags_reach_the_run(capsys, store_home, tmp_path):
    from PIL import Image

    target = tmp_path / "t.png"
    Image.new("RGB", (16, 16), (200, 30, 30)).save(target)
    code, out, err = run_cli(
        capsys,
        "search",
        "--substrate",
        "life_like",
        "--mode",
        "target",
        "--target-image",
        str(target),
        *QUICK,
        "--coef-prompt",
        "0.5",
        "--coef-oe",
        "2",
        "--bs",
        "2",
        "--tiling",
        "blocks",
        "--json",
    )
    assert code == 0, err
    doc = json.loads(out)
    cfg = json.loads((store_home / "runs" / doc["run"] / "config.json").read_text())
    assert (cfg["coef_prompt"], cfg["coef_oe"], cfg["bs"], cfg["tiling"]) == (0.5, 2.0, 2, "blocks")
    row = doc["history"][0]
    # The loss the optimiser sees is the weighted sum of the logged terms.
    assert row["gen_mean"] == pytest.approx(0.5 * row["loss_prompt"] + 2 * row["loss_oe"], rel=1e-5)
    code, out, err = run_cli(
        capsys,
        "search",
        "--substrate",
        "life_like",
        "--mode",
        "illuminate",
        *QUICK,
        "--children",
        "3",
        "--k-nbrs",
        "1",
        "--json",
    )
    assert code == 0, err
    cfg = json.loads((store_home / "runs" / json.loads(out)["run"] / "config.json").read_text())
    assert (cfg["children"], cfg["k_nbrs"], cfg["pop"]) == (3, 1, 4)


@pytest.mark.parametrize(
    "mode, algo", [("open-endedness", None), ("illuminate", "ga"), ("illuminate", "map-elites")]
)
def test_search_loops_report_each_generation_to_on_generation(tmp_path, mode, algo):
    """The engine side of the bar: plain callbacks, the same rows the run keeps."""
    from primordium.asal.config import AsalConfig
    from primordium.asal.experiment import run_search, search_result
    from primordium.store import Store

    cfg = AsalConfig(
        substrate="life_like",
        substrate_options={"grid": 16},
        mode=mode,
        fm="pixels",
        pop=4,
        gens=2,
        steps=16,
        frames=4,
        size=16,
        bins=4,
        **({"algo": algo} if algo else {}),
    )
    seen: list[list[dict]] = []
    run = run_search(cfg, Store(tmp_path), on_generation=lambda h: seen.append(list(h)))
    assert [len(h) for h in seen] == [0, 1, 2]
    assert seen[-1] == search_result(run)["history"]
