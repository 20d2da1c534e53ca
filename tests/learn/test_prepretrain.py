"""NCA pre-pre-training runs: the corpus, the transfer of weights, the commands and their
errors, at tiny sizes."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch  # the learn extra: missing fails, never skips

from primordium.learn import corpus
from primordium.learn.gpt import GPT, GPTConfig
from primordium.learn.prepretrain import VOCAB_TENSORS, transfer
from primordium.store import Store
from primordium.store.keys import is_bookkeeping, key_summary

TINY = ["--layers", "1", "--heads", "2", "--d-model", "16", "--context", "32", "--batch", "4",
        "--warmup", "2", "--threads", "1", "--log-every", "3"]  # fmt: skip
NCA = ["--states", "3", "--size", "4", "--hidden", "4"]


def _tree(root, files: dict[str, bytes]):
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


def test_the_corpus_is_its_sorted_files_split_by_file_and_the_same_twice(tmp_path):
    files = {f"m{i}.py": f"x = {i}\n".encode() * (i + 1) for i in range(40)}
    files["pkg/mod.py"] = b"import os\n"
    _tree(tmp_path / "a", files)
    left_out = {"test/t.py": b"1", "site-packages/s.py": b"2", "pkg/tests/u.py": b"3"}
    _tree(tmp_path / "a", left_out | {"notes.txt": b"4"})
    _tree(tmp_path / "b", dict(reversed(files.items())))  # made in another order
    a, b = corpus.load(root=str(tmp_path / "a")), corpus.load(root=str(tmp_path / "b"))
    assert a.digest == b.digest and np.array_equal(a.train, b.train) and a.files == 41
    rels = sorted(files)
    held = [r for r in rels if hashlib.sha256(r.encode()).digest()[0] < 0.1 * 256]
    assert 0 < a.valid_files == len(held) < 41
    want = b"".join(files[r] + b"\xff" for r in held)
    got = np.where(a.valid == corpus.END_OF_FILE, 255, a.valid).astype(np.uint8).tobytes()
    assert got == want and (a.valid == corpus.END_OF_FILE).sum() == len(held)
    kept = [r for r in rels if r not in held]
    assert a.train.size == sum(len(files[r]) + 1 for r in kept)
    (tmp_path / "b" / "m3.py").write_bytes(b"y = 0\n")
    corpus._load.cache_clear()
    assert corpus.load(root=str(tmp_path / "b")).digest != a.digest


def test_the_real_corpus_is_the_stdlib_without_tests_or_packages():
    rels = [r for r, _ in corpus.stdlib_files()]
    assert rels == sorted(rels) and "os.py" in rels and "json/decoder.py" in rels
    assert not any(p in ("test", "site-packages") for r in rels for p in r.split("/"))
    c = corpus.load()
    assert c.files == len(rels) and c.train.size > 10 * c.valid.size / 9 > 0
    assert c.describe()["python"].count(".") == 2


def test_transfer_copies_all_but_the_vocabulary_and_leaves_those_as_scratch_draws():
    shape = {"context": 16, "n_layer": 2, "n_head": 2, "d_model": 16}
    torch.manual_seed(1)
    source = GPT(GPTConfig(vocab=83, **shape)).state_dict()
    torch.manual_seed(5)
    model = GPT(GPTConfig(vocab=corpus.VOCAB, **shape))
    torch.manual_seed(5)
    scratch = GPT(GPTConfig(vocab=corpus.VOCAB, **shape)).state_dict()
    copied = transfer(source, model)
    after = model.state_dict()
    assert set(copied) == set(after) - set(VOCAB_TENSORS) and "blocks.1.attn.qkv.weight" in copied
    for key in after:
        want = scratch[key] if key in VOCAB_TENSORS else source[key]
        assert torch.equal(after[key], want), key
    assert not torch.equal(after["blocks.0.mlp.0.weight"], scratch["blocks.0.mlp.0.weight"])
    torch.manual_seed(5)
    model = GPT(GPTConfig(vocab=corpus.VOCAB, **shape))
    copied = transfer(source, model, "attention")
    assert sorted(copied) == sorted(k for k in after if ".attn." in k or ".norm1." in k)
    for key, value in model.state_dict().items():
        assert torch.equal(value, source[key] if key in copied else scratch[key]), key


def test_prepretrain_then_finetune_through_the_cli(cli, store_home, tmp_path):
    code, out, err = cli("learn", "nca-data", *NCA, "--frames", "3", "--rules", "5",
                         "--out", tmp_path / "d.npz", "--json")  # fmt: skip
    assert code == 0, err
    stats = json.loads(out)
    assert stats["kept"] == 5 and stats["tokens"] == 5 * 3 * 6 and stats["vocab"] == 83
    with np.load(tmp_path / "d.npz") as data:
        assert data["tokens"].shape == (5, 18) and data["rules"].tolist() == list(range(5))

    code, out, err = cli("learn", "prepretrain", *NCA, *TINY, "--rules", "8", "--steps", "6",
                         "--json")  # fmt: skip
    assert code == 0, err
    pre = json.loads(out)
    assert pre["rules"] == 8 and np.isfinite(pre["val_loss"])
    code, out, err = cli("learn", "finetune", "--from", pre["run"], *TINY, "--steps", "6",
                         "--valid-windows", "4", "--json")  # fmt: skip
    assert code == 0, err
    fine = Store().open(json.loads(out)["run"])
    assert fine.config["from"] == pre["run"] and fine.config["corpus"]["python"]
    assert len(fine.config["transferred"]) > 10
    rows = fine.metrics()
    assert [r["seen_tokens"] for r in rows] == [3 * 4 * 32, 6 * 4 * 32]
    assert all(np.isfinite(r["val_loss"]) for r in rows)
    code, out, err = cli("learn", "finetune", "--from", "scratch", *TINY, "--steps", "3",
                         "--valid-windows", "4", "--json")  # fmt: skip
    assert code == 0, err
    listed = {r["id"]: r for r in Store().list()}
    assert listed[fine.id]["summary"]["init"] == pre["run"]
    assert listed[json.loads(out)["run"]]["summary"]["init"] == "scratch"
    assert listed[pre["run"]]["engine"] == "learn"
    # The gallery's card and charts: loss, held-out loss and the start; curves by tokens seen.
    card = dict(key_summary("learn", listed[fine.id]["summary"]))
    assert list(card) == ["loss", "val_loss", "init"] and card["init"] == pre["run"]
    assert not is_bookkeeping("val_loss") and is_bookkeeping("seen_tokens")


def test_the_same_seed_gives_the_same_finetune_curve(cli, store_home):
    curves = []
    for _ in range(2):
        code, out, err = cli("learn", "finetune", "--from", "scratch", *TINY, "--steps", "3",
                             "--valid-windows", "2", "--seed", "4", "--json")  # fmt: skip
        assert code == 0, err
        curves.append(
            [(r["loss"], r["val_loss"]) for r in Store().open(json.loads(out)["run"]).metrics()]
        )
    assert curves[0] == curves[1]


def test_compare_runs_every_arm_and_tables_them(cli, store_home):
    code, out, err = cli("learn", "nca-compare", "--seeds", "0,1", "--bands", "0:0.4,0.4:2",
                         *NCA, *TINY, "--rules", "4", "--pre-steps", "3", "--steps", "3",
                         "--json")  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert set(result["table"]) == {"scratch", "nca[0.0,0.4]", "nca[0.4,2.0]"}
    row = result["table"]["nca[0.0,0.4]"][-1]
    assert set(row["val_loss"]) == {"0", "1"} and row["tokens"] == 3 * 4 * 32
    scratch = result["table"]["scratch"][-1]["val_loss"]
    diff = np.mean([row["val_loss"][s] - scratch[s] for s in ("0", "1")])
    assert row["minus_scratch_mean"] == pytest.approx(diff)
    run = Store().open(result["run"])
    assert len(run.summary["children"]) == 2 + 2 * 2 * 2 and run.status == "finished"
    assert json.loads((run.dir / "compare.json").read_text())["table"] == result["table"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["prepretrain", "--band-low", "0.5", "--band-high", "0.4"], "--band-low"),
        (["prepretrain", *NCA, "--band-high", "0.01", "--rules", "2"], "keeps no rule"),
        (["prepretrain", *NCA, "--frames", "2", "--context", "32"], "--frames"),
        (["prepretrain", "--size", "7"], "--size"),
        (["nca-data", "--sampling", "top-k"], "--sampling"),
        (["finetune", "--from", "learn-nope"], "no run"),
        (["finetune", "--from", "scratch", "--steps", "0"], "--steps"),
        (["finetune", "--from", "scratch", "--transfer", "mlp"], "--transfer"),
        (["nca-compare", "--bands", "0.3"], "--bands"),
        (["nca-compare", "--bands", "0.5:0.2"], "--band-low 0.5"),
        (["nca-compare", "--seeds", "a"], "--seeds"),
    ],
)
def test_bad_settings_are_one_line_and_exit_2(cli, store_home, args, words):
    code, out, err = cli("learn", *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and words in err, err


def test_an_interrupted_compare_resumes_onto_the_uninterrupted_table(store_home):
    from primordium.learn.nca import NCAConfig
    from primordium.learn.nca_compare import compare
    from primordium.learn.train import TrainConfig

    cfg = NCAConfig(states=3, size=4, hidden=4, frames=6)
    train = TrainConfig(steps=4, batch=4, warmup=1, threads=1, log_every=2, checkpoint_every=2)
    args = (
        [0],
        [(0.0, 2.0)],
        cfg,
        GPTConfig(cfg.vocab, 32, 1, 2, 16),
        train,
        train,
    )
    store = Store()
    _, whole = compare(store, *args, rules=4)

    def stop(what: str, p: dict) -> None:
        if what.endswith("/pre/0") and p["step"] == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        compare(store, *args, rules=4, progress=stop)
    (cut,) = [r for r in store.list() if r["status"] == "interrupted" and "vs scratch" in r["name"]]
    assert set(cut["summary"]["children"]) == {"scratch/0", "nca[0.0,2.0]/pre/0"}
    run, resumed = compare(store, *args, rules=4, resume=cut["id"])
    assert run.status == "finished" and resumed["table"] == whole["table"]
