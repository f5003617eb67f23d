"""Keyword spotting on speech synthesized on this machine.

    python3 -m denseshift.speech build --out DIR [--seed S] [--size tiny|small|full] [--jobs J]
    python3 -m denseshift.speech features IN.wav [IN2.wav ...] -o features.npy

``build`` makes a 12-class command dataset (10 command words, ``_unknown_``
for other words, ``_silence_`` for noise only) with Debian's ``espeak-ng``
(many accents x voice variants, random speed and pitch), resampled to 16 kHz
and given room-like reverb by ``sox``, then placed at a random offset in a
1 s clip and mixed with noise (numpy).  The splits are **by voice variant**:
a variant (the timbre: ``f3``, ``klatt2``, ``Storm``...) is in exactly one of
train/valid/test, with every accent, so test speakers are unseen.

Everything is a function of ``(seed, size)``: each clip draws its parameters
from its own generator keyed by the seed and the clip's name, so the result
does not depend on ``--jobs`` or on the order clips finish.  DIR holds
``manifest.json`` (the protocol, its SHA-256, the files' SHA-256), and per
split ``SPLIT.npy`` (int16, N x 16000) and ``SPLIT.json`` (one record per
clip), plus ``build-info.json`` (time taken; the only file that differs
between two builds with the same seed).  A build is written into a temporary
directory and renamed into place, so an interrupted build leaves nothing.

:func:`features` is the front end, used by training (``load_features``) and
by deployment (``preprocess``, the ``features`` subcommand): the compiled
model's input is its output, ``float32 (N, 1, 40, 98)``.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np
import torch

FORMAT = "denseshift-speech"
PROTOCOL_VERSION = 1
SAMPLE_RATE = 16000
CLIP_SAMPLES = SAMPLE_RATE                    # fixed 1 s clips
COMMANDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
UNKNOWN_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "bed", "bird", "cat", "dog", "happy", "house", "tree", "wow", "forward",
                 "backward", "follow", "learn", "visual", "marvin", "sheila")
UNKNOWN, SILENCE = "_unknown_", "_silence_"
LABELS = COMMANDS + (UNKNOWN, SILENCE)
NUM_CLASSES = len(LABELS)
SPLITS = ("train", "valid", "test")

# espeak-ng's native English voices (accents) and voice variants (the files of
# espeak-ng-data/voices/!v).  Fixed here so the protocol does not depend on what
# happens to be installed; a missing one is an error.
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-gb-x-gbclan",
           "en-gb-x-gbcwmd", "en-us-nyc")
VARIANTS = (
    "adam", "Alex", "Alicia", "Andrea", "Andy", "Annie", "antonio", "aunty", "belinda",
    "benjamin", "boris", "caleb", "david", "Demonic", "Denis", "Diogo", "ed", "edward",
    "edward2", "Gene", "Gene2", "gustave", "announcer", "Henrique", "Hugo", "iven", "iven2",
    "iven3", "iven4", "Jacky", "john", "kaukovalta", "Lee", "linda", "marcelo", "Marco",
    "Mario", "max", "Michael", "michel", "miguel", "Mike", "Nguyen", "pablo", "paul", "pedro",
    "quincy", "RicishayMax", "RicishayMax2", "RicishayMax3", "rob", "robert", "robosoft",
    "robosoft2", "robosoft3", "robosoft4", "robosoft5", "robosoft6", "robosoft7", "robosoft8",
    "steph", "steph2", "steph3", "Storm", "Tweaky", "UniRobot", "zac", "anika", "anikaRobot",
    "AnxiousAndy", "f1", "f2", "f3", "f4", "f5", "whisperf", "grandpa", "grandma", "klatt",
    "klatt2", "klatt3", "klatt4", "klatt5", "klatt6", "m1", "m2", "m3", "m4", "m5", "m6", "m7",
    "m8", "norbert", "sandro", "shelby", "travis", "victor", "whisper", "croak")

# accents, variants per split (train, valid, test), clips per (speaker, class).
SIZES = {
    "tiny": {"accents": 2, "variants": (4, 1, 1), "repeats": 1},
    "small": {"accents": 4, "variants": (20, 5, 5), "repeats": 2},
    "full": {"accents": 8, "variants": (70, 14, 15), "repeats": 2},
}
AUGMENT = {
    "speed_wpm": [120, 220], "pitch": [15, 85],
    "reverb_probability": 0.75, "reverberance": [10, 80], "hf_damping": [20, 80],
    "room_scale": [10, 100], "predelay_ms": [0, 30],
    "peak": [0.1, 0.9], "snr_db": [5, 35], "silence_rms": [0.0005, 0.1],
    "noise_types": ["white", "pink", "brown", "hum"],
}

# The front end (shared by training and deployment).
N_FFT, HOP, N_MELS, F_MIN, F_MAX = 480, 160, 40, 20.0, 8000.0  # 30 ms windows, 10 ms hop
FRAMES = 1 + (CLIP_SAMPLES - N_FFT) // HOP                       # 98
FEATURE_SHAPE = (1, N_MELS, FRAMES)
LOG_FLOOR = 1e-6
FEATURE_MEAN, FEATURE_STD = -4.0, 4.5        # fixed affine normalisation of the log-mel


class SpeechError(RuntimeError):
    """Missing tool, corrupt or mismatched cache; the message says how to fix it."""



# --------------------------------------------------------------------- front end

_MEL = None


def _mel_transform():
    global _MEL
    if _MEL is None:
        try:
            import torchaudio
        except ImportError as err:
            raise SpeechError("torchaudio is missing: install the Debian package python3-torchaudio "
                              f"(apt-get install python3-torchaudio) ({err})") from err
        _MEL = torchaudio.transforms.MelSpectrogram(
            sample_rate=SAMPLE_RATE, n_fft=N_FFT, win_length=N_FFT, hop_length=HOP, f_min=F_MIN,
            f_max=F_MAX, n_mels=N_MELS, center=False, power=2.0)
    return _MEL


def features(audio):
    """The front end: 1 s of 16 kHz audio -> normalised log-mel, float32 (N, 1, 40, 98).

    ``audio`` is float in [-1, 1] or int16 (scaled by 1/32768), shape (16000,)
    or (N, 16000), numpy or torch.  Power mel spectrogram (Hann window of 480
    samples, hop 160, no centring padding, 40 HTK mels over 20-8000 Hz), then
    ``(log(mel + 1e-6) - FEATURE_MEAN) / FEATURE_STD``.  Training and
    deployment both call this function; the compiled model's input is its output.
    """
    x = torch.as_tensor(np.asarray(audio))
    if x.dtype == torch.int16:
        x = x.to(torch.float32) / 32768.0
    x = x.to(torch.float32)
    if x.dim() == 1:
        x = x[None]
    if x.dim() != 2 or x.shape[1] != CLIP_SAMPLES:
        raise ValueError(f"features() takes (N, {CLIP_SAMPLES}) samples at {SAMPLE_RATE} Hz, "
                         f"got shape {tuple(x.shape)}")
    with torch.no_grad():
        mel = _mel_transform()(x)
        out = (torch.log(mel + LOG_FLOOR) - FEATURE_MEAN) / FEATURE_STD
    return out[:, None].contiguous()


def fit_clip(samples):
    """Mono float samples at 16 kHz -> exactly 1 s: zero-padded at the end, or the first 1 s."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    out = np.zeros(CLIP_SAMPLES, np.float32)
    n = min(len(samples), CLIP_SAMPLES)
    out[:n] = samples[:n]
    return out


def read_wav(path):
    """A wav file -> mono float32 samples at 16 kHz (other rates resampled by torchaudio)."""
    try:
        import soundfile
    except ImportError as err:
        raise SpeechError("soundfile is missing: install the Debian package python3-soundfile") from err
    try:
        data, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except Exception as err:  # soundfile raises its own error types
        raise SpeechError(f"{path}: cannot read audio ({err})") from err
    data = data.mean(axis=1)
    if rate != SAMPLE_RATE:
        import torchaudio.functional
        data = torchaudio.functional.resample(torch.from_numpy(data), rate, SAMPLE_RATE).numpy()
    return data


def preprocess(wav_paths):
    """Deployment path: wav files -> the compiled model's input, float32 (N, 1, 40, 98)."""
    clips = np.stack([fit_clip(read_wav(p)) for p in wav_paths])
    return features(clips).numpy()


# --------------------------------------------------------------------- protocol

def protocol(seed=0, size="tiny"):
    """Everything that determines the dataset's bytes (besides the tools' versions)."""
    if size not in SIZES:
        raise SpeechError(f"unknown size {size!r}; choose one of {sorted(SIZES)}")
    spec = SIZES[size]
    order = np.random.default_rng([seed, 0x5BEEC4]).permutation(len(VARIANTS))
    shuffled = [VARIANTS[i] for i in order]
    variants, start = {}, 0
    for split, count in zip(SPLITS, spec["variants"]):
        variants[split] = sorted(shuffled[start:start + count])
        start += count
    return {"version": PROTOCOL_VERSION, "seed": int(seed), "size": size,
            "sample_rate": SAMPLE_RATE, "clip_samples": CLIP_SAMPLES, "labels": list(LABELS),
            "commands": list(COMMANDS), "unknown_words": list(UNKNOWN_WORDS),
            "accents": list(ACCENTS[:spec["accents"]]), "variants": variants,
            "repeats": spec["repeats"], "augment": AUGMENT}


def protocol_hash(proto):
    return hashlib.sha256(json.dumps(proto, sort_keys=True).encode()).hexdigest()


def clip_plan(proto):
    """{split: [clip record without audio]}; each record carries its own parameters."""
    plan = {}
    for split in SPLITS:
        records = []
        for variant in proto["variants"][split]:
            for accent in proto["accents"]:
                speaker = f"{accent}+{variant}"
                for label in proto["labels"]:
                    for rep in range(proto["repeats"]):
                        name = f"{speaker}/{label}/{rep}"
                        rng = np.random.default_rng([proto["seed"], zlib.crc32(name.encode())])
                        records.append(_draw(rng, proto, name, speaker, accent, variant, label))
        plan[split] = records
    return plan


def _uniform(rng, bounds):
    return float(rng.uniform(*bounds))


def _draw(rng, proto, name, speaker, accent, variant, label):
    aug = proto["augment"]
    word = label
    if label == UNKNOWN:
        word = proto["unknown_words"][int(rng.integers(len(proto["unknown_words"])))]
    record = {"name": name, "label": proto["labels"].index(label), "word": word,
              "speaker": speaker, "accent": accent, "variant": variant,
              "noise": aug["noise_types"][int(rng.integers(len(aug["noise_types"])))],
              "noise_seed": int(rng.integers(2 ** 31))}
    if label == SILENCE:
        lo, hi = np.log(aug["silence_rms"])
        record["noise_rms"] = round(float(np.exp(rng.uniform(lo, hi))), 6)
        return record
    record.update(speed=int(rng.integers(aug["speed_wpm"][0], aug["speed_wpm"][1] + 1)),
                  pitch=int(rng.integers(aug["pitch"][0], aug["pitch"][1] + 1)),
                  peak=round(_uniform(rng, aug["peak"]), 4),
                  snr_db=round(_uniform(rng, aug["snr_db"]), 2),
                  offset=round(float(rng.uniform()), 4))
    if rng.uniform() < aug["reverb_probability"]:
        record["reverb"] = [int(rng.integers(lo, hi + 1)) for lo, hi in
                            (aug["reverberance"], aug["hf_damping"], aug["room_scale"],
                             aug["predelay_ms"])]
    return record


# --------------------------------------------------------------------- synthesis

def check_tools():
    """Raise SpeechError naming the Debian package of a missing tool, voice or variant."""
    for tool, package in (("espeak-ng", "espeak-ng"), ("sox", "sox")):
        if shutil.which(tool) is None:
            raise SpeechError(f"{tool} not found on PATH: install the Debian package {package} "
                              f"(apt-get install {package})")


def tool_versions():
    def first_line(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, check=False)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "unknown"
    return {"espeak-ng": first_line(["espeak-ng", "--version"]),
            "sox": first_line(["sox", "--version"])}


def check_voices(proto):
    listed = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True).stdout
    files = {line.split()[4].split("/")[-1] for line in listed.splitlines()[1:] if len(line.split()) > 4}
    needed = sorted({v for vs in proto["variants"].values() for v in vs})
    missing = [v for v in needed if v not in files]
    if missing:
        raise SpeechError(f"espeak-ng lacks the voice variants {missing}: the Debian package "
                          "espeak-ng-data is incomplete (apt-get install --reinstall espeak-ng-data)")
    languages = subprocess.run(["espeak-ng", "--voices=en"], capture_output=True, text=True).stdout
    names = {line.split()[1] for line in languages.splitlines()[1:] if len(line.split()) > 1}
    missing = [a for a in proto["accents"] if a not in names]
    if missing:
        raise SpeechError(f"espeak-ng lacks the English voices {missing}: "
                          "apt-get install --reinstall espeak-ng-data")


def _run(cmd, data=None):
    result = subprocess.run(cmd, input=data, capture_output=True, check=False)
    if result.returncode != 0 or not result.stdout:
        raise SpeechError(f"{' '.join(cmd)} failed (exit {result.returncode}): "
                          f"{result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def _noise(kind, n, rng):
    white = rng.standard_normal(n)
    if kind == "white":
        noise = white
    elif kind in ("pink", "brown"):
        spectrum = np.fft.rfft(white)
        freqs = np.arange(len(spectrum), dtype=np.float64)
        freqs[0] = 1.0
        spectrum /= freqs ** (0.5 if kind == "pink" else 1.0)
        spectrum[0] = 0.0
        noise = np.fft.irfft(spectrum, n)
    else:  # mains hum with harmonics, plus a little white noise
        t = np.arange(n) / SAMPLE_RATE
        base = 50.0 if rng.uniform() < 0.5 else 60.0
        noise = sum(rng.uniform(0.2, 1.0) / h * np.sin(2 * np.pi * base * h * t + rng.uniform(0, 2 * np.pi))
                    for h in range(1, 6)) + 0.05 * white
    return noise / max(np.sqrt(np.mean(noise ** 2)), 1e-12)


def synthesize(record):
    """One clip record -> int16 samples (16000,).  Deterministic in the record."""
    rng = np.random.default_rng(record["noise_seed"])
    clip = np.zeros(CLIP_SAMPLES, np.float64)
    if "word" in record and record["label"] != LABELS.index(SILENCE):
        wav = _run(["espeak-ng", "-v", record["speaker"], "-s", str(record["speed"]),
                    "-p", str(record["pitch"]), "--stdout", record["word"]])
        effects = ["rate", "-h", str(SAMPLE_RATE)]
        if "reverb" in record:
            reverberance, damping, room, predelay = record["reverb"]
            effects += ["reverb", str(reverberance), str(damping), str(room), "100", str(predelay)]
        raw = _run(["sox", "-R", "-D", "-V1", "-t", "wav", "-", "-t", "raw", "-e", "floating-point",
                    "-b", "32", "-c", "1", "-", *effects], wav)
        speech = np.frombuffer(raw, dtype="<f4").astype(np.float64)
        loud = np.flatnonzero(np.abs(speech) > 0.05 * max(np.abs(speech).max(), 1e-9))
        if len(loud) == 0:
            raise SpeechError(f"espeak-ng produced silence for {record['name']}")
        speech = speech[max(loud[0] - 160, 0):loud[-1] + 1 + 800][:CLIP_SAMPLES]
        speech *= record["peak"] / max(np.abs(speech).max(), 1e-9)
        start = int(record["offset"] * (CLIP_SAMPLES - len(speech)))
        clip[start:start + len(speech)] = speech
        rms = np.sqrt(np.mean(speech ** 2))
        noise_rms = rms / 10 ** (record["snr_db"] / 20)
    else:
        noise_rms = record["noise_rms"]
    clip += noise_rms * _noise(record["noise"], CLIP_SAMPLES, rng)
    return np.round(np.clip(clip, -1.0, 32767 / 32768) * 32768).astype(np.int16)


# --------------------------------------------------------------------- cache

def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_manifest(directory):
    """Validate DIR's manifest and files; return the manifest or raise SpeechError."""
    path = os.path.join(directory, "manifest.json")
    rebuild = (f"delete {directory} or rebuild it with "
               f"`python3 -m denseshift.speech build --out {directory} --force`")
    if not os.path.isfile(path):
        raise SpeechError(f"{directory} is not a speech dataset (no manifest.json): build it with "
                          f"`python3 -m denseshift.speech build --out {directory}`")
    try:
        with open(path) as f:
            manifest = json.load(f)
        if manifest.get("format") != FORMAT:
            raise SpeechError(f"{path} is not a {FORMAT} manifest; {rebuild}")
        proto, files = manifest["protocol"], manifest["files"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise SpeechError(f"{path} is corrupt ({err}); {rebuild}") from err
    if proto.get("version") != PROTOCOL_VERSION:
        raise SpeechError(f"{directory} was built with protocol version {proto.get('version')}, "
                          f"this code makes version {PROTOCOL_VERSION}; {rebuild}")
    if protocol_hash(proto) != manifest.get("protocol_hash"):
        raise SpeechError(f"{path}: the protocol does not match its hash (edited or corrupt); {rebuild}")
    expected = {f"{split}.{ext}" for split in SPLITS for ext in ("npy", "json")}
    if not expected <= set(files):
        raise SpeechError(f"{path} is corrupt (it lists no hash for "
                          f"{', '.join(sorted(expected - set(files)))}); {rebuild}")
    for name, info in files.items():
        file_path = os.path.join(directory, name)
        if not os.path.isfile(file_path):
            raise SpeechError(f"{directory} is corrupt: {name} is missing; {rebuild}")
        if os.path.getsize(file_path) != info["bytes"] or _sha256(file_path) != info["sha256"]:
            raise SpeechError(f"{directory} is corrupt: {name} does not match the SHA-256 in "
                              f"manifest.json; {rebuild}")
    return manifest


def load_split(directory, split, limit=None):
    """(audio int16 tensor (N, 16000), labels int64 tensor (N,), clip records) of one split."""
    if split not in SPLITS:
        raise SpeechError(f"unknown split {split!r}; choose one of {SPLITS}")
    read_manifest(directory)
    audio = np.load(os.path.join(directory, f"{split}.npy"), allow_pickle=False)
    with open(os.path.join(directory, f"{split}.json")) as f:
        records = json.load(f)
    if limit is not None:
        audio, records = audio[:limit], records[:limit]
    labels = torch.tensor([r["label"] for r in records], dtype=torch.int64)
    return torch.from_numpy(np.ascontiguousarray(audio)), labels, records


def load_features(directory, split, limit=None, batch=512):
    """(features float32 (N, 1, 40, 98), labels int64 (N,)) — the training input."""
    audio, labels, _ = load_split(directory, split, limit)
    chunks = [features(audio[i:i + batch]) for i in range(0, len(audio), batch)]
    x = torch.cat(chunks) if chunks else torch.zeros((0,) + FEATURE_SHAPE)
    return x, labels


def _write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")


def build(out, seed=0, size="tiny", jobs=1, force=False, progress=True):
    """Build (or find cached) the dataset in ``out``; return its manifest."""
    proto = protocol(seed, size)
    digest = protocol_hash(proto)
    out = os.path.abspath(out)
    if os.path.exists(os.path.join(out, "manifest.json")) and not force:
        manifest = read_manifest(out)
        if manifest["protocol_hash"] == digest:
            print(f"{out}: up to date ({size}, seed {seed}, protocol {digest[:12]})")
            return manifest
        old = manifest["protocol"]
        raise SpeechError(f"{out} holds another dataset (size {old.get('size')}, seed "
                          f"{old.get('seed')}, protocol {manifest['protocol_hash'][:12]}), not size "
                          f"{size} seed {seed} (protocol {digest[:12]}): pass --force to replace "
                          "it or choose another --out")
    if os.path.isdir(out) and os.listdir(out) and not os.path.exists(os.path.join(out, "manifest.json")):
        raise SpeechError(f"{out} exists and is not a speech dataset; choose an empty or new --out")
    check_tools()
    check_voices(proto)
    plan = clip_plan(proto)
    total = sum(len(r) for r in plan.values())
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    started = time.time()
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.tmp-", dir=parent)
    try:
        from tqdm import tqdm
        bar = tqdm(total=total, desc=f"speech {size}", unit="clip", disable=not progress,
                   dynamic_ncols=True)
        files, counts = {}, {}
        pool = ThreadPoolExecutor(max_workers=max(1, jobs))
        try:
            for split in SPLITS:
                records = plan[split]
                audio = np.zeros((len(records), CLIP_SAMPLES), np.int16)
                futures = {pool.submit(synthesize, r): i for i, r in enumerate(records)}
                for future in as_completed(futures):
                    audio[futures[future]] = future.result()
                    bar.update(1)
                np.save(os.path.join(tmp, f"{split}.npy"), audio, allow_pickle=False)
                _write_json(os.path.join(tmp, f"{split}.json"), records)
                counts[split] = len(records)
                for name in (f"{split}.npy", f"{split}.json"):
                    path = os.path.join(tmp, name)
                    files[name] = {"bytes": os.path.getsize(path), "sha256": _sha256(path)}
        finally:
            pool.shutdown(wait=True, cancel_futures=True)   # on an error, start no more clips
            bar.close()
        manifest = {"format": FORMAT, "protocol": proto, "protocol_hash": digest, "files": files,
                    "counts": counts, "speakers": {s: sorted({r["speaker"] for r in plan[s]})
                                                   for s in SPLITS},
                    "tools": tool_versions(), "feature_shape": list(FEATURE_SHAPE)}
        _write_json(os.path.join(tmp, "manifest.json"), manifest)
        seconds = time.time() - started
        total_bytes = sum(f["bytes"] for f in files.values())
        _write_json(os.path.join(tmp, "build-info.json"),
                    {"seconds": round(seconds, 2), "jobs": jobs, "bytes": total_bytes})
        if os.path.exists(out):
            shutil.rmtree(out)   # an empty dir, or (with --force) a dataset with a manifest
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f"{out}: {total} clips ({', '.join(f'{s} {counts[s]}' for s in SPLITS)}), "
          f"{total_bytes / 1e6:.1f} MB, {seconds:.1f} s")
    return manifest


# --------------------------------------------------------------------- CLI

def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m denseshift.speech", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="synthesize the dataset into --out (cached)")
    b.add_argument("--out", required=True)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--size", choices=sorted(SIZES), default="small")
    b.add_argument("--jobs", type=int, default=1, help="parallel synthesis processes")
    b.add_argument("--force", action="store_true", help="replace a different or corrupt dataset")
    b.add_argument("--no-progress", action="store_true")
    f = sub.add_parser("features", help="wav files -> the compiled model's input (.npy)")
    f.add_argument("wavs", nargs="+")
    f.add_argument("-o", "--output", required=True)
    args = p.parse_args(argv)
    try:
        if args.command == "build":
            if args.jobs <= 0:
                p.error("--jobs must be positive")
            if args.force and os.path.isdir(args.out) and os.listdir(args.out) \
                    and not os.path.exists(os.path.join(args.out, "manifest.json")):
                raise SpeechError(f"{args.out} is not a speech dataset; --force only replaces one")
            build(args.out, args.seed, args.size, args.jobs, args.force, not args.no_progress)
        else:
            x = preprocess(args.wavs)
            directory = os.path.dirname(os.path.abspath(args.output))
            fd, tmp = tempfile.mkstemp(suffix=".npy", dir=directory)
            with os.fdopen(fd, "wb") as fh:
                np.save(fh, x, allow_pickle=False)
            os.replace(tmp, args.output)
            print(f"{args.output}: {x.shape} float32")
    except SpeechError as err:
        print(f"denseshift.speech: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
