"""denseshift.table on a tiny configuration: 7 runs, report files, skip, resume, mismatch."""
import json
import os

import pytest

from denseshift import table
from helpers import fake_dataset

LABELS = [c[1] for c in table.CONFIGS]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fake_dataset(tmp_path_factory.mktemp("fmnist"))


def args(data, runs, docs, *extra):
    return ["--out", str(runs), "--docs", str(docs), "--model", "smallcnn", "--limit", "64",
            "--epochs", "1", "--batch", "32", "--data-dir", data, "--no-progress", *extra]


def test_table_trains_reports_skips_and_resumes(data, tmp_path, capsys):
    runs, docs = tmp_path / "runs", tmp_path / "docs"
    assert table.main(args(data, runs, docs)) == 0
    assert sorted(os.listdir(runs)) == sorted(table.CONFIG_NAMES)
    assert sorted(os.listdir(docs)) == ["RESULTS.md", "results.json", "results.png"]
    assert (docs / "results.png").read_bytes()[:4] == b"\x89PNG"

    result = json.loads((docs / "results.json").read_text())
    rows = {r["name"]: r for r in result["rows"]}
    assert [r["label"] for r in result["rows"]] == LABELS
    assert result["protocol"]["train_images"] == 64 and result["protocol"]["test_images"] == 48
    assert rows["fp32"]["freezing"] is None and rows["fp32"]["bits"] == 32
    for name in table.CONFIG_NAMES[1:]:
        f = rows[name]["freezing"]
        assert 0.0 <= f["frozen"] <= 1.0 and 0.0 <= f["sign_flip"] <= 1.0
        assert 0.0 <= rows[name]["top1"] <= 1.0 and rows[name]["action"] == "trained"
        assert "--limit 64" in rows[name]["command"] and "--epochs 1" in rows[name]["command"]
    assert rows["denseshift-2b"]["command"].count("--bits 2") == 1
    assert set(result["verdicts"]) == set(result["verdicts_best_epoch"]) == {
        "denseshift3_within_1pct_of_fp32", "denseshift3_at_least_s3"}
    gap = result["verdicts"]["denseshift3_within_1pct_of_fp32"]["gap_pp"]
    assert gap == pytest.approx(100 * (rows["fp32"]["top1"] - rows["denseshift-3b"]["top1"]))

    md = (docs / "RESULTS.md").read_text()
    assert all(f"| {label} |" in md for label in LABELS)
    assert "not the paper's" in md and "python3 -m denseshift.table" in md
    assert "first 48 Fashion-MNIST test images (a subset" in md

    # Second run: everything is skipped, checkpoints untouched; a section another
    # tool maintains in RESULTS.md (denseshift.ptq's) is kept.
    checkpoint = runs / "s3-3b" / "checkpoint.pt"
    before = checkpoint.stat().st_mtime_ns
    capsys.readouterr()
    (docs / "RESULTS.md").write_text(md + "<!-- ptq:begin -->\n## PTQ\n<!-- ptq:end -->\n")
    assert table.main(args(data, runs, docs)) == 0
    assert (docs / "RESULTS.md").read_text().endswith("<!-- ptq:begin -->\n## PTQ\n<!-- ptq:end -->\n")
    assert capsys.readouterr().out.count("skipped") == len(LABELS)
    assert checkpoint.stat().st_mtime_ns == before
    assert json.loads((docs / "results.json").read_text())["skipped"] == LABELS

    # More epochs: the stored run is resumed, not restarted.
    resume = args(data, runs, docs, "--only", "denseshift-3b", "--no-plot")
    resume[resume.index("--epochs") + 1] = "2"
    assert table.main(resume) == 0
    result = json.loads((docs / "results.json").read_text())
    assert [r["action"] for r in result["rows"]] == ["resumed"]
    assert len(result["rows"][0]["per_epoch_test_acc"]) == 2
    wall = json.loads((runs / "denseshift-3b" / table.WALL_FILE).read_text())
    assert wall["invocations"] == 2


def test_other_protocol_is_refused(data, tmp_path, capsys):
    runs, docs = tmp_path / "runs", tmp_path / "docs"
    assert table.main(args(data, runs, docs, "--only", "fp32", "--no-plot")) == 0
    capsys.readouterr()
    assert table.main(args(data, runs, docs, "--only", "fp32", "--lr", "0.01")) == 2
    err = capsys.readouterr().err
    assert "another protocol" in err and "lr=0.001" in err
