"""The converged multi-seed table (issue 12, item 1) on tiny synthetic data."""
import json
import math

import pytest

from denseshift import seeds_table
from helpers import fake_dataset


def test_student_t_and_paired_comparison():
    # two-sided p of Student's t against tabulated values
    for t, dof, p in ((2.0, 2, 0.1835), (4.303, 2, 0.05), (1.0, 10, 0.3409), (12.706, 1, 0.05)):
        assert seeds_table.student_t_p(t, dof) == pytest.approx(p, abs=2e-4)
    assert seeds_table.student_t_p(0.0, 3) == pytest.approx(1.0)
    c = seeds_table.paired([0.90, 0.91, 0.92], [0.89, 0.90, 0.905])
    assert c["n"] == 3 and c["mean_pp"] == pytest.approx(7 / 6)
    assert c["t"] == pytest.approx(7.0) and 0.01 < c["p"] < 0.03
    assert seeds_table.paired([0.9], [0.8])["t"] is None


def test_seeds_table_trains_every_seed_reports_and_refuses_another_protocol(tmp_path, capsys):
    data = fake_dataset(tmp_path / "data", train=96, test=48)
    runs, docs = tmp_path / "runs", tmp_path / "docs"
    argv = ["--out", str(runs), "--docs", str(docs), "--epochs", "1", "--seeds", "0", "1",
            "--batch", "32", "--data-dir", data, "--only", "fp32", "denseshift-3b", "s3-3b",
            "--no-progress"]
    assert seeds_table.main(argv) == 0
    for name in ("fp32", "denseshift-3b", "s3-3b"):
        assert sorted(p.name for p in (runs / name).iterdir()) == ["seed0", "seed1"]
    result = json.loads((docs / "converged.json").read_text())
    rows = {r["name"]: r for r in result["rows"]}
    assert len(rows["fp32"]["per_seed"]) == 2 and math.isfinite(rows["fp32"]["std"])
    assert rows["fp32"]["final_freezing"] is None and rows["denseshift-3b"]["final_freezing"]
    assert set(result["paired"]) == {"ds3_vs_fp32", "ds3_vs_s3"}
    md = (docs / "RESULTS.md").read_text()
    assert "<!-- converged:begin -->" in md and " ± " in md and "dof, p = " in md
    assert "DenseShift 3-bit within 0.5 pp of FP32" in md
    assert (docs / "converged.png").read_bytes()[:4] == b"\x89PNG"
    # again: nothing retrained
    mtime = (runs / "s3-3b" / "seed1" / "checkpoint.pt").stat().st_mtime_ns
    assert seeds_table.main(argv + ["--no-plot"]) == 0
    assert (runs / "s3-3b" / "seed1" / "checkpoint.pt").stat().st_mtime_ns == mtime
    # another protocol: refused before training, nothing written
    capsys.readouterr()
    other = list(argv)
    other[other.index("--batch") + 1] = "16"
    assert seeds_table.main(other) == 2
    assert "another protocol" in capsys.readouterr().err
    assert (runs / "s3-3b" / "seed1" / "checkpoint.pt").stat().st_mtime_ns == mtime
