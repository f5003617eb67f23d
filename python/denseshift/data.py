"""Fashion-MNIST from the IDX files of Debian's ``dataset-fashion-mnist``.

The IDX format: big-endian magic ``0x0000 08 NDIM`` (08 = unsigned byte),
NDIM big-endian uint32 sizes, then the raw bytes.  Images are scaled to
[0, 1] and normalised with :data:`MEAN` / :data:`STD`; the exported model
expects inputs normalised the same way.
"""
import gzip
import os
import struct

import numpy as np
import torch

DATA_DIR = "/usr/share/datasets/fashion-mnist"
DEBIAN_PACKAGE = "dataset-fashion-mnist"
MEAN, STD = 0.2860, 0.3530
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


class DatasetError(RuntimeError):
    """The dataset is missing or malformed; the message says how to fix it."""


def read_idx(path):
    """Read a (gzipped) IDX file of unsigned bytes into a numpy array."""
    if not os.path.exists(path):
        raise DatasetError(f"{path} not found: install the Debian package {DEBIAN_PACKAGE} "
                           f"(apt-get install {DEBIAN_PACKAGE}) or pass --data-dir")
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:
        raise DatasetError(f"{path}: cannot read IDX file ({err})") from err
    if len(raw) < 4:
        raise DatasetError(f"{path}: truncated IDX header")
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08 or not 1 <= ndim <= 4:
        raise DatasetError(f"{path}: not an unsigned-byte IDX file (magic {raw[:4].hex()})")
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    if len(raw) - header != int(np.prod(shape)):
        raise DatasetError(f"{path}: expected {int(np.prod(shape))} data bytes for shape "
                           f"{shape}, found {len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def normalize(images_uint8):
    """uint8 N x 28 x 28 -> float32 N x 1 x 28 x 28, normalised."""
    x = images_uint8.astype(np.float32)[:, None] / 255.0
    return (x - MEAN) / STD


def load_split(split, data_dir=DATA_DIR, limit=None):
    """(images float32 tensor N x 1 x 28 x 28, labels int64 tensor N)."""
    image_file, label_file = FILES[split]
    images = read_idx(os.path.join(data_dir, image_file))
    labels = read_idx(os.path.join(data_dir, label_file))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DatasetError(f"{data_dir}: {split} images {images.shape} and labels "
                           f"{labels.shape} do not match")
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return torch.from_numpy(normalize(images)), torch.from_numpy(labels.astype(np.int64))
