"""Shared test helpers: tiny synthetic Fashion-MNIST-shaped IDX files."""
import gzip
import os
import struct

import numpy as np

from denseshift.data import FILES


def write_idx(path, array):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def fake_dataset(directory, train=96, test=48, seed=0):
    """Images whose mean brightness encodes the label, so a model can learn."""
    rng = np.random.default_rng(seed)
    os.makedirs(directory, exist_ok=True)
    for split, count in (("train", train), ("test", test)):
        labels = rng.integers(0, 10, count)
        images = rng.integers(0, 40, (count, 28, 28)) + (labels * 20)[:, None, None]
        image_file, label_file = FILES[split]
        write_idx(os.path.join(directory, image_file), images)
        write_idx(os.path.join(directory, label_file), labels)
    return str(directory)
