"""PNG plots of a training run: curves, code histograms, freezing metric."""
import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend must be chosen first)
from matplotlib.ticker import MaxNLocator  # noqa: E402

from .checkpoint import atomic_write_bytes  # noqa: E402


def save_png(fig, path, dpi=100):
    """Write ``fig`` to ``path`` as PNG atomically and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def plot_curves(history, path):
    """Train/test loss and accuracy per epoch."""
    epochs = [h["epoch"] for h in history]
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 4))
    for key, style in (("train", "-o"), ("test", "--s")):
        loss_ax.plot(epochs, [h[f"{key}_loss"] for h in history], style, label=key)
        acc_ax.plot(epochs, [100 * h[f"{key}_acc"] for h in history], style, label=key)
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    acc_ax.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for ax in (loss_ax, acc_ax):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    save_png(fig, path)


def plot_code_histograms(histograms, path):
    """One bar chart per shift layer of the signed levels s * (k + 1)."""
    names = sorted(histograms) or ["(no shift layers)"]
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        hist = histograms.get(name, {})
        levels = sorted(int(v) for v in hist)
        ax.bar(levels, [hist[v] if v in hist else hist[str(v)] for v in levels],
               color=["tab:red" if v < 0 else "tab:grey" if v == 0 else "tab:blue" for v in levels])
        ax.set(title=name, xlabel="s * (k + 1)", ylabel="weights")
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle("code histograms (last epoch)")
    save_png(fig, path)


def plot_freezing(history, path):
    """Per-layer frozen share and sign-flip share over epochs."""
    fig, (frozen_ax, flip_ax) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = [h["epoch"] for h in history]
    layers = sorted(history[-1].get("freezing", {})) if history else []
    for name in layers:
        frozen_ax.plot(epochs, [100 * h["freezing"][name]["frozen"] for h in history], "-o", label=name)
        flip_ax.plot(epochs, [100 * h["freezing"][name]["sign_flip"] for h in history], "-o", label=name)
    frozen_ax.set(xlabel="epoch", ylabel="% of weights", title="frozen codes")
    flip_ax.set(xlabel="epoch", ylabel="% of weights", title="sign flips")
    for ax in (frozen_ax, flip_ax):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if layers:
            ax.legend(fontsize="small")
    save_png(fig, path)
