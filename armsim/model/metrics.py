"""Confusion matrix and a classification report in scikit-learn's layout, in numpy."""

from __future__ import annotations

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, classes: int = 10) -> np.ndarray:
    """Counts[true][predicted]."""
    m = np.zeros((classes, classes), np.int64)
    np.add.at(m, (np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)), 1)
    return m


def report(y_true: np.ndarray, y_pred: np.ndarray, classes: int = 10) -> str:
    """Per-class precision, recall, f1 and support, plus accuracy and averages."""
    m = confusion_matrix(y_true, y_pred, classes)
    tp = np.diag(m).astype(float)
    support = m.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.nan_to_num(tp / m.sum(0))
        recall = np.nan_to_num(tp / support)
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    n = int(support.sum())
    lines = [f"{'':>12}{'precision':>10}{'recall':>10}{'f1-score':>10}{'support':>10}", ""]
    for c in range(classes):
        lines.append(f"{c:>12}{precision[c]:>10.2f}{recall[c]:>10.2f}{f1[c]:>10.2f}{support[c]:>10}")
    lines.append("")
    lines.append(f"{'accuracy':>12}{'':>10}{'':>10}{tp.sum() / max(n, 1):>10.4f}{n:>10}")
    lines.append(f"{'macro avg':>12}{precision.mean():>10.2f}{recall.mean():>10.2f}"
                 f"{f1.mean():>10.2f}{n:>10}")
    w = support / max(n, 1)
    lines.append(f"{'weighted avg':>12}{(precision * w).sum():>10.2f}{(recall * w).sum():>10.2f}"
                 f"{(f1 * w).sum():>10.2f}{n:>10}")
    return "\n".join(lines)
