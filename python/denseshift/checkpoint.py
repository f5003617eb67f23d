"""Checkpoints (config + state_dict + epoch + optimizer) and atomic writes.

Every file is written to a temporary name in the destination directory and
renamed into place, so an interrupted run never leaves a half-written file.
"""
import io
import json
import os
import tempfile

import torch

from .models import build_model

FORMAT = "denseshift-checkpoint"
VERSION = 1
# torch 1.13's weights_only unpickler rejects Python floats, so everything that
# is not a tensor (config, epoch, history, optimizer hyper-parameters) travels
# as one JSON string beside the tensors.
REQUIRED_META = ("config", "epoch", "history", "param_groups")


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupt or does not match the requested model."""


def atomic_write_bytes(path, data):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix="-" + os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path, text):
    atomic_write_bytes(path, text.encode("utf-8"))


def section_markers(name):
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def replace_section(text, name, body):
    """``text`` with the part between ``<!-- name:begin -->`` and ``<!-- name:end -->``
    replaced by ``body`` (markers kept), or with the marked body appended."""
    begin, end = section_markers(name)
    block = f"{begin}\n{body.rstrip()}\n{end}\n"
    if begin in text and end in text.split(begin, 1)[1]:
        before, rest = text.split(begin, 1)
        return before + block + rest.split(end, 1)[1].lstrip("\n")
    return text.rstrip("\n") + ("\n\n" if text.strip() else "") + block


def marked_sections(text):
    """Every ``<!-- name:begin -->...<!-- name:end -->`` block of ``text``, in order."""
    blocks, rest = [], text
    while "<!-- " in rest:
        start = rest.index("<!-- ")
        head = rest[start:].split(" -->", 1)[0][5:]
        if not head.endswith(":begin"):
            rest = rest[start + 5:]
            continue
        begin, end = section_markers(head[:-len(":begin")])
        tail = rest[start:]
        if end not in tail:
            break
        blocks.append(tail[:tail.index(end) + len(end)])
        rest = tail[tail.index(end) + len(end):]
    return blocks


def atomic_write_json(path, obj):
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def save_checkpoint(path, config, model, optimizer, epoch, history, extra=None):
    """``extra``: more JSON metadata (e.g. ``world_size``), returned as keys by load_checkpoint."""
    optimizer_state = optimizer.state_dict() if optimizer else {"state": {}, "param_groups": []}
    meta = {**(extra or {}), "config": dict(config), "epoch": epoch, "history": history,
            "param_groups": optimizer_state["param_groups"]}
    payload = {"format": FORMAT, "version": VERSION, "meta": json.dumps(meta),
               "model": model.state_dict(), "optimizer_state": optimizer_state["state"],
               "rng": torch.get_rng_state()}
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path):
    """Load and validate a checkpoint dict; raise CheckpointError otherwise."""
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path} not found")
    try:
        # weights_only: a checkpoint is data, never code to run.
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for bad pickles/zips
        raise CheckpointError(f"checkpoint {path} is corrupt or not a torch file: {err}") from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a DenseShift checkpoint")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {payload.get('version')} "
                              f"is not supported (expected {VERSION})")
    try:
        meta = json.loads(payload["meta"])
        missing = [k for k in REQUIRED_META if k not in meta]
        for key in ("model", "optimizer_state", "rng"):
            if key not in payload:
                missing.append(key)
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: checkpoint metadata is unreadable: {err}") from err
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks {', '.join(missing)}")
    payload.update(meta)
    payload["optimizer"] = {"state": payload["optimizer_state"],
                            "param_groups": meta["param_groups"]}
    return payload


def restore_model(payload, path="checkpoint"):
    """Build the checkpoint's model and load its weights (strictly)."""
    try:
        model = build_model(payload["config"])
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: bad model config {payload['config']!r}: {err}") from err
    try:
        model.load_state_dict(payload["model"], strict=True)
    except (RuntimeError, TypeError, KeyError) as err:
        raise CheckpointError(f"{path}: weights do not match model config "
                              f"{payload['config']}: {err}") from err
    return model


def load_model(path):
    """Checkpoint path -> (model in eval mode, config)."""
    payload = load_checkpoint(path)
    model = restore_model(payload, path)
    model.eval()
    return model, payload["config"]
