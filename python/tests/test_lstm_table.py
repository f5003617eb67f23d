"""The tensor-train LSTM table (issue 11, item 3) on a tiny synthetic dataset."""
import json
import shutil

import pytest

from denseshift import lstm_table, runtime
from helpers import fake_dataset


@pytest.mark.skipif(not runtime.ProjectToolchain().available(), reason="project toolchain not built")
def test_lstm_table_trains_reports_and_checks_the_compiled_model(tmp_path):
    data = fake_dataset(tmp_path / "data", train=64, test=40)
    runs, docs = tmp_path / "runs", tmp_path / "docs"
    docs.mkdir()
    (docs / "RESULTS.md").write_text("# Results\n\nkept\n")
    argv = ["--out", str(runs), "--docs", str(docs), "--limit", "64", "--epochs", "1",
            "--data-dir", data, "--only", "dense-fp32", "mps8-ds3", "--no-progress"]
    assert lstm_table.main(argv) == 0
    md = (docs / "RESULTS.md").read_text()
    assert md.startswith("# Results\n\nkept\n") and "<!-- lstm:begin -->" in md
    assert "| MPS rank 8 + DenseShift 3-bit |" in md and "| dense LSTM, FP32 |" in md
    result = json.loads((docs / "lstm.json").read_text())
    dense, mps = result["rows"]
    assert dense["bytes"] == 4 * (512 * 28 + 512 * 128)
    assert dense["bytes"] / mps["bytes"] > 100
    x86 = result["compiled"]["x86-64-avx2"]
    assert x86["images"] == 40 and x86["differ"] == 0 and x86["max_rel_error"] < 1e-4
    # a second run skips the trained configurations
    mtime = (runs / "mps8-ds3" / "checkpoint.pt").stat().st_mtime_ns
    assert lstm_table.main(argv + ["--no-compile"]) == 0
    assert (runs / "mps8-ds3" / "checkpoint.pt").stat().st_mtime_ns == mtime


def test_lstm_table_needs_the_dense_baseline(tmp_path, capsys):
    data = fake_dataset(tmp_path / "data", train=32, test=16)
    argv = ["--out", str(tmp_path / "runs"), "--docs", str(tmp_path / "docs"), "--limit", "32",
            "--epochs", "1", "--data-dir", data, "--only", "mps4-fp32", "--no-compile",
            "--no-progress"]
    assert lstm_table.main(argv) == 2
    assert "dense-fp32" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None,
                    reason="espeak-ng and sox are not installed")
def test_lstm_table_on_speech_frames(tmp_path):
    from denseshift import speech
    data = tmp_path / "speech"
    speech.build(str(data), seed=0, size="tiny", jobs=2, progress=False)
    docs = tmp_path / "docs"
    argv = ["--dataset", "speech", "--data-dir", str(data), "--out", str(tmp_path / "runs"),
            "--docs", str(docs), "--epochs", "1", "--batch", "32", "--only", "dense-fp32",
            "mps8-ds3", "--no-compile", "--no-progress"]
    assert lstm_table.main(argv) == 0
    md = (docs / "RESULTS.md").read_text()
    assert "<!-- lstm-speech:begin -->" in md and "98 frames of 40 log-mel bands" in md
    result = json.loads((docs / "lstm-speech.json").read_text())
    assert [r["name"] for r in result["rows"]] == ["dense-fp32", "mps8-ds3"]
    assert result["rows"][0]["bytes"] == 4 * (512 * 40 + 512 * 128)


def test_speech_needs_its_data_dir():
    with pytest.raises(SystemExit):
        lstm_table.parse_args(["--dataset", "speech", "--out", "x"])
