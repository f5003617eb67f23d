"""The keyword-spotting table (issue 11, item 2) on the tiny synthesized set."""
import json
import shutil

import pytest

from denseshift import runtime, speech_table

pytestmark = [
    pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None,
                       reason="espeak-ng and sox (Debian packages espeak-ng, sox) are not installed"),
    pytest.mark.skipif(not runtime.ProjectToolchain().available(),
                       reason="project toolchain not built"),
]


def test_speech_table_builds_trains_compiles_and_reports(tmp_path):
    docs = tmp_path / "docs"
    argv = ["--data", str(tmp_path / "tiny"), "--size", "tiny", "--out", str(tmp_path / "runs"),
            "--docs", str(docs), "--epochs", "1", "--batch", "32", "--jobs", "2",
            "--only", "fp32", "denseshift-3b", "--no-progress"]
    assert speech_table.main(argv) == 0
    md = (docs / "RESULTS.md").read_text()
    assert "<!-- speech:begin -->" in md and "| DenseShift 3-bit |" in md and "Target (" in md
    result = json.loads((docs / "speech.json").read_text())
    fp, ds = result["rows"]
    assert result["test_clips"] == 24 and result["train_clips"] == 96
    assert ds["bytes"] < fp["bytes"] / 4          # six block convs at 3 bits
    for row in (fp, ds):
        x86 = row["compiled"]["x86-64-avx2"]
        assert x86["images"] == 24 and x86["differ"] == 0 and x86["max_rel_error"] < 1e-4
        assert row["compiled_top1"] == row["top1"] and row["latency_ms"] > 0
        arm = row["compiled"]["aarch64-neon"]
        assert "skipped" in arm or (arm["differ"] == 0 and arm["max_rel_error"] < 1e-4)


def test_speech_table_needs_the_baseline(tmp_path, capsys):
    argv = ["--data", str(tmp_path / "d"), "--size", "tiny", "--out", str(tmp_path / "r"),
            "--docs", str(tmp_path / "docs"), "--only", "s3-3b", "--no-progress"]
    assert speech_table.main(argv) == 2
    assert "fp32" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()        # refused before building anything
