"""Pair-classification metrics: confusion matrix, per-class precision/recall, markdown report."""

from __future__ import annotations

import numpy as np

from gpu_kernels.extents.base import CLASSES


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n: int = len(CLASSES)) -> np.ndarray:
    """(n, n) counts; rows are the true class, columns the predicted one."""
    m = np.zeros((n, n), dtype=np.int64)
    np.add.at(m, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return m


def per_class(m: np.ndarray) -> dict[str, dict[str, float]]:
    out = {}
    for k, name in enumerate(CLASSES):
        tp = m[k, k]
        pred, true = m[:, k].sum(), m[k, :].sum()
        out[name] = {"precision": round(float(tp / pred), 4) if pred else float("nan"),
                     "recall": round(float(tp / true), 4) if true else float("nan"),
                     "support": int(true)}
    return out


def summary(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    m = confusion(y_true, y_pred)
    return {"accuracy": round(float(np.trace(m) / max(1, m.sum())), 4), "per_class": per_class(m),
            "confusion": m.tolist()}


def markdown(title: str, s: dict) -> str:
    lines = [f"### {title}", "", f"accuracy {s['accuracy']:.4f}", "",
             "| class | precision | recall | support |", "|---|---|---|---|"]
    for name, r in s["per_class"].items():
        lines.append(f"| {name} | {r['precision']:.4f} | {r['recall']:.4f} | {r['support']} |")
    lines += ["", "confusion (rows true, columns predicted):", "",
              "| true \\ pred | " + " | ".join(CLASSES) + " |", "|---" * (len(CLASSES) + 1) + "|"]
    for name, row in zip(CLASSES, s["confusion"]):
        lines.append(f"| {name} | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines) + "\n"
