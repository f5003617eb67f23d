"""Synthesized speech commands: determinism, split by voice, the shared front end,
cache validation and the errors for missing tools (tiny size, a few seconds)."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from denseshift import speech, train
from denseshift.checkpoint import load_checkpoint

PYTHON_DIR = os.path.join(os.path.dirname(__file__), "..")
DATA_FILES = [f"{s}.{ext}" for s in speech.SPLITS for ext in ("npy", "json")] + ["manifest.json"]

needs_tools = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="espeak-ng and sox (Debian packages espeak-ng, sox) are not installed")


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "denseshift.speech", *args], cwd=PYTHON_DIR,
                          capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.skip("espeak-ng and sox (Debian packages espeak-ng, sox) are not installed")
    out = tmp_path_factory.mktemp("speech") / "tiny"
    speech.build(str(out), seed=0, size="tiny", jobs=2, progress=False)
    return out


@needs_tools
def test_same_seed_same_bytes(tiny, tmp_path, capsys):
    again = tmp_path / "again"           # built with 1 job, the fixture with 2
    assert speech.main(["build", "--out", str(again), "--size", "tiny", "--seed", "0",
                        "--jobs", "1", "--no-progress"]) == 0
    for name in DATA_FILES:           # only build-info.json (the time taken) may differ
        assert (tiny / name).read_bytes() == (again / name).read_bytes(), name
    assert sorted(os.listdir(again)) == sorted(DATA_FILES + ["build-info.json"])
    # a second build of the same dataset is a cache hit
    capsys.readouterr()
    assert speech.main(["build", "--out", str(again), "--size", "tiny", "--seed", "0",
                        "--no-progress"]) == 0
    assert "up to date" in capsys.readouterr().out
    # another seed gives other parameters (and other voices in each split)
    assert speech.protocol_hash(speech.protocol(1, "tiny")) != speech.protocol_hash(speech.protocol(0, "tiny"))
    assert speech.clip_plan(speech.protocol(1, "tiny"))["train"] != speech.clip_plan(speech.protocol(0, "tiny"))["train"]


@needs_tools
def test_clips_and_labels(tiny):
    manifest = speech.read_manifest(str(tiny))
    audio, labels, records = speech.load_split(str(tiny), "train")
    assert audio.dtype == torch.int16 and audio.shape == (manifest["counts"]["train"], 16000)
    assert labels.tolist() == [r["label"] for r in records]
    assert set(labels.tolist()) == set(range(speech.NUM_CLASSES))   # every class, balanced
    assert len(speech.LABELS) >= 12 and speech.LABELS[-2:] == ("_unknown_", "_silence_")
    for r, clip in zip(records, audio):
        word = speech.LABELS[r["label"]]
        if word == "_unknown_":
            assert r["word"] in speech.UNKNOWN_WORDS
        elif word != "_silence_":
            assert r["word"] == word
        assert clip.abs().max() > 0                 # never an empty clip


@pytest.mark.parametrize("size", sorted(speech.SIZES))
def test_split_by_voice(size, tmp_path):
    """No voice variant (hence no speaker) is in two splits, at every size."""
    proto = speech.protocol(0, size)
    variants = {s: set(proto["variants"][s]) for s in speech.SPLITS}
    pairs = (("train", "test"), ("train", "valid"), ("valid", "test"))
    for a, b in pairs:
        assert not variants[a] & variants[b]
    if size != "full":                   # the full plan (19k clips) takes seconds to draw
        plan = speech.clip_plan(proto)
        speakers = {s: {r["speaker"] for r in plan[s]} for s in speech.SPLITS}
        assert variants == {s: {r["variant"] for r in plan[s]} for s in speech.SPLITS}
        for a, b in pairs:
            assert not speakers[a] & speakers[b]
    assert all(variants[s] for s in speech.SPLITS)
    assert set(variants["train"]) | variants["valid"] | variants["test"] <= set(speech.VARIANTS)


@needs_tools
def test_built_split_by_voice(tiny):
    manifest = speech.read_manifest(str(tiny))
    split_of = {}
    for split in speech.SPLITS:
        _, _, records = speech.load_split(str(tiny), split)
        assert {r["speaker"] for r in records} == set(manifest["speakers"][split])
        for r in records:
            assert split_of.setdefault(r["variant"], split) == split


@needs_tools
def test_features_shared_by_training_and_deployment(tiny, tmp_path, monkeypatch):
    import soundfile
    x, y = speech.load_features(str(tiny), "test")
    assert x.shape == (len(y), 1, 40, 98) and x.dtype == torch.float32
    assert speech.FEATURE_SHAPE == (1, 40, 98)
    audio, _, _ = speech.load_split(str(tiny), "test")
    # deployment: a 16 kHz wav of a test clip -> preprocess / the CLI -> the same bytes
    paths = []
    for i in (0, 5):
        paths.append(str(tmp_path / f"clip{i}.wav"))
        soundfile.write(paths[-1], audio[i].numpy(), speech.SAMPLE_RATE, subtype="PCM_16")
    deployed = speech.preprocess(paths)
    assert deployed.dtype == np.float32 and np.array_equal(deployed, x[[0, 5]].numpy())
    result = cli("features", *paths, "-o", str(tmp_path / "f.npy"))
    assert result.returncode == 0, result.stderr
    assert np.array_equal(np.load(tmp_path / "f.npy"), deployed)
    # a shorter clip is zero-padded to 1 s: same as features() of the padded clip
    short = tmp_path / "short.wav"
    soundfile.write(str(short), audio[0, :8000].numpy(), speech.SAMPLE_RATE, subtype="PCM_16")
    padded = torch.cat([audio[0, :8000], torch.zeros(8000, dtype=torch.int16)])
    assert np.array_equal(speech.preprocess([str(short)]), speech.features(padded).numpy())
    # training goes through the very same function
    calls = []
    original = speech.features
    monkeypatch.setattr(speech, "features", lambda a: calls.append(len(a)) or original(a))
    args = train.parse_args(["--dataset", "speech", "--data", str(tiny), "--out", str(tmp_path / "r")])
    train_x, _, test_x, _, classes = train.load_data(args)
    assert sum(calls) == len(train_x) + len(test_x) and classes == speech.NUM_CLASSES
    assert torch.equal(test_x, x)


@needs_tools
def test_res8_trains_on_speech(tiny, tmp_path):
    """The keyword-spotting shift ResNet, 3-bit DenseShift, two tiny epochs."""
    out = tmp_path / "res8"
    assert train.main(["--dataset", "speech", "--data", str(tiny), "--model", "res8", "--lr", "3e-3",
                       "--epochs", "2", "--batch", "16", "--limit", "48", "--threads", "1",
                       "--no-progress",
                       "--out", str(out)]) == 0
    payload = load_checkpoint(str(out / "checkpoint.pt"))
    assert payload["config"]["model"] == "res8" and payload["config"]["input_shape"] == [1, 40, 98]
    first, second = payload["history"]
    assert len(first["freezing"]) == 6                      # the six block convs are shift layers
    assert np.isfinite(second["test_loss"]) and second["train_loss"] < first["train_loss"]


@needs_tools
def test_train_on_speech_records_input_shape(tiny, tmp_path):
    out = tmp_path / "run"
    assert train.main(["--dataset", "speech", "--data", str(tiny), "--model", "smallcnn",
                       "--batch", "32", "--threads", "1", "--no-progress", "--out", str(out)]) == 0
    payload = load_checkpoint(str(out / "checkpoint.pt"))
    assert payload["config"]["input_shape"] == [1, 40, 98]
    assert payload["config"]["num_classes"] == speech.NUM_CLASSES
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["normalization"]["features"] == "denseshift.speech.features"


@needs_tools
def test_corrupt_or_mismatched_cache(tiny, tmp_path, capsys):
    bad = tmp_path / "bad"
    shutil.copytree(tiny, bad)
    data = bytearray((bad / "train.npy").read_bytes())
    data[-7] ^= 0x40                                      # one flipped bit in one sample
    (bad / "train.npy").write_bytes(bytes(data))
    with pytest.raises(speech.SpeechError, match="corrupt: train.npy"):
        speech.load_features(str(bad), "train")
    assert speech.main(["build", "--out", str(bad), "--size", "tiny", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "corrupt" in err and "--force" in err
    status = train.main(["--dataset", "speech", "--data", str(bad), "--out", str(tmp_path / "r"),
                         "--no-progress"])
    assert status == 2 and not (tmp_path / "r").exists()

    (bad / "manifest.json").write_text((tiny / "manifest.json").read_text()[:200])
    with pytest.raises(speech.SpeechError, match="manifest.json is corrupt"):
        speech.read_manifest(str(bad))

    edited = json.loads((tiny / "manifest.json").read_text())
    edited["protocol"]["repeats"] = 5
    (bad / "manifest.json").write_text(json.dumps(edited))
    with pytest.raises(speech.SpeechError, match="does not match its hash"):
        speech.read_manifest(str(bad))

    # the documented fix: --force rebuilds it
    assert speech.main(["build", "--out", str(bad), "--size", "tiny", "--force", "--no-progress"]) == 0
    assert (bad / "train.npy").read_bytes() == (tiny / "train.npy").read_bytes()
    speech.read_manifest(str(bad))

    # another seed/size asked of an existing dataset: refused, untouched
    before = (tiny / "train.npy").read_bytes()
    assert speech.main(["build", "--out", str(tiny), "--size", "tiny", "--seed", "3",
                        "--no-progress"]) == 2
    assert "another dataset" in capsys.readouterr().err
    assert (tiny / "train.npy").read_bytes() == before

    missing = tmp_path / "nothing"
    with pytest.raises(speech.SpeechError, match="no manifest.json"):
        speech.load_split(str(missing), "train")


def test_missing_tools_name_the_package(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "bin"
    empty.mkdir()
    espeak = shutil.which("espeak-ng")
    result = cli("build", "--out", str(tmp_path / "ds"), "--size", "tiny",
                 env=dict(os.environ, PATH=str(empty)))
    assert result.returncode == 2
    assert "espeak-ng" in result.stderr and "apt-get install espeak-ng" in result.stderr
    assert not (tmp_path / "ds").exists()
    if espeak:
        os.symlink(espeak, empty / "espeak-ng")
        monkeypatch.setenv("PATH", str(empty))
        assert speech.main(["build", "--out", str(tmp_path / "ds"), "--size", "tiny"]) == 2
        assert "apt-get install sox" in capsys.readouterr().err
        assert not (tmp_path / "ds").exists()


@needs_tools
def test_interrupted_build_leaves_nothing(tmp_path, monkeypatch):
    calls = []

    def failing(record):
        calls.append(record)
        if len(calls) > 20:
            raise KeyboardInterrupt
        return np.zeros(speech.CLIP_SAMPLES, np.int16)

    monkeypatch.setattr(speech, "synthesize", failing)
    with pytest.raises(KeyboardInterrupt):
        speech.build(str(tmp_path / "ds"), size="tiny", jobs=1, progress=False)
    assert os.listdir(tmp_path) == []
