"""`python3 -m denseshift.table all`: every table from one command (issue 12, item 4)."""
import json

from denseshift import all_tables, table
from helpers import fake_dataset


def test_list_names_every_table_with_its_command(capsys):
    assert table.main(["all", "--list", "--runs", "R"]) == 0
    out = capsys.readouterr().out
    for name in ("paper", "converged", "ofq", "transfer", "ptq", "lstm", "speech", "lstm-speech"):
        assert f"# {name}:" in out
    assert "python3 -m denseshift.seeds_table --out R/converged" in out
    assert "python3 -m denseshift.ptq R/ptq-fp32-resnet20/checkpoint.pt --table" in out


def test_runs_the_tables_records_them_and_goes_on_after_a_failure(tmp_path, monkeypatch, capsys):
    data = fake_dataset(tmp_path / "data", train=96, test=48)
    docs = tmp_path / "docs"

    def tiny(runs, docs_dir):
        d = ["--docs", docs_dir]
        return [("broken", "a table whose data is missing",
                 [("transfer_table", ["--out", str(tmp_path / "t"), "--data-dir",
                                      str(tmp_path / "missing")] + d)]),
                ("transfer", "tiny transfer table",
                 [("transfer_table", ["--out", str(tmp_path / "t2"), "--seeds", "0",
                                      "--pretrain-epochs", "1", "--finetune-epochs", "1",
                                      "--batch", "32", "--limit", "96", "--data-dir", data] + d)])]

    monkeypatch.setattr(all_tables, "steps", tiny)
    assert table.main(["all", "--runs", str(tmp_path), "--docs", str(docs), "--no-progress"]) == 2
    record = json.loads((docs / "tables.json").read_text())
    assert [(t["name"], t["status"]) for t in record["tables"]] == [("broken", 2), ("transfer", 0)]
    assert record["machine"]["cpu"] and record["tables"][1]["minutes"] > 0
    assert "<!-- transfer:begin -->" in (docs / "RESULTS.md").read_text()
    assert "failed (exit 2)" in capsys.readouterr().out
