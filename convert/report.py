"""The conversion report: a short readable summary and an image beside the bundle.

The image is drawn from the sidecar alone (its ``validation`` section), so it can be drawn
again for any bundle: ``python -m convert.report NAME.json`` writes ``NAME.report.png``.

Classifiers: the figures (size, top-1 and top-k accuracy of the float and int8 models, the gap,
their agreement), the per-class accuracies of both models, and the int8 model's confusion matrix
(true label against predicted; the float model's prediction against the int8 model's when no
labeled images were given). Autoencoders: the figures (size, threshold, detection and false
alarm rates, ROC AUC) and the histogram of the int8 model's reconstruction errors with the
threshold.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

DPI = 100
FLOAT, INT8, LINE = "#9aa5b1", "#1f6fb2", "#c0392b"


def report_path(tflite_path: str | Path) -> Path:
    return Path(tflite_path).with_suffix(".report.png")


def _figure(width: float, height: float) -> Figure:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _kb(size: int) -> str:
    return f"{size / 1024:.1f} kB"


def _size_line(report: dict[str, Any]) -> str:
    return (f"{_kb(report['tflite_bytes'])} int8, {_kb(report['float_tflite_bytes'])} float "
            f"({_pct(report['size_ratio'])})")  # fmt: skip


# -- the figures as text ------------------------------------------------------------------


def classifier_figures(report: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, value) rows for the report's text panel."""
    calib = report["calibration"]
    rows = [("size", _size_line(report))]
    scores = report.get("eval")
    if not scores:
        rows.append(("agreement", f"{_pct(calib['agreement'])} of {calib['images']} "
                     "calibration images"))  # fmt: skip
        rows.append(("accuracy", "no labeled images (edge convert --eval DIR)"))
        return rows
    f, q, k = scores["float"], scores["quantized"], scores["top_k"]
    rows += [
        ("top-1", f"{_pct(f['top1'])} float, {_pct(q['top1'])} int8"),
        ("gap", f"{100 * scores['top1_gap']:+.1f} points (float - int8)"),
        (f"top-{k}", f"{_pct(f['topk'])} float, {_pct(q['topk'])} int8"),
        ("agreement", f"{_pct(scores['agreement'])} of {scores['images']} eval images, "
                      f"{_pct(calib['agreement'])} of {calib['images']} calibration"),
    ]  # fmt: skip
    per_class = scores["per_class"].items()
    name, worst = max(per_class, key=lambda item: item[1]["gap"])
    if worst["gap"] > 0:
        rows.append(("largest drop", f"class {name}: {_pct(worst['float'])} float, "
                     f"{_pct(worst['quantized'])} int8"))  # fmt: skip
    else:
        rows.append(("class gaps", "none: no class is less accurate in int8"))
    name, weakest = min(per_class, key=lambda item: item[1]["quantized"])
    rows.append(("weakest class", f"{name}: {_pct(weakest['quantized'])} int8 "
                 f"({weakest['images']} images)"))  # fmt: skip
    return rows


def autoencoder_figures(report: dict[str, Any]) -> list[tuple[str, str]]:
    calib = report["calibration"]
    rows = [
        ("size", _size_line(report)),
        ("threshold", _threshold_line(report)),
        ("promise", _promise_line(report)),
        ("mean error", f"{calib['quantized']['mean']:.5f} int8, {calib['float']['mean']:.5f} "
                       "float (calibration)"),
    ]  # fmt: skip
    scores = report.get("eval", {})
    if "anomaly" in scores:
        a = scores["anomaly"]
        rows.append(("detected", f"{_pct(a['detection_rate'])} of {a['images']} anomalies"))
    if "normal" in scores:
        n = scores["normal"]
        rows.append(("false alarms", f"{_pct(n['false_alarm_rate'])} of {n['images']} normal"))
    if "roc_auc" in scores:
        rows.append(("ROC AUC", f"{scores['roc_auc']:.3f} int8, {scores['float_roc_auc']:.3f} "
                                "float"))  # fmt: skip
    return rows


def _threshold_line(report: dict[str, Any]) -> str:
    calib = report["calibration"]
    if "rank" not in calib:  # a bundle made before the order statistic
        return (f"{report['threshold']:.5f} ({report['percentile']:g}th percentile of "
                f"{calib['images']} calibration errors)")  # fmt: skip
    return (f"{report['threshold']:.5f}: error {calib['rank']} of {calib['images']} "
            "calibration images in order")  # fmt: skip


def _promise_line(report: dict[str, Any]) -> str:
    calib = report["calibration"]
    if "interval_90" not in calib:
        return "no false-alarm figures (converted before they were kept)"
    low, high = calib["interval_90"]
    return (f"{_pct(report['false_alarm_rate'])} false alarms on fresh normal images: expected "
            f"{_pct2(calib['expected_false_alarm_rate'])}, 90% interval {_pct2(low)} to "
            f"{_pct2(high)}")  # fmt: skip


def _text_panel(ax: Axes, title: str, rows: Sequence[tuple[str, str]]) -> None:
    ax.axis("off")
    ax.set_title(title, loc="left", fontsize=14, fontweight="bold")
    width = max(len(name) for name, _ in rows) + 2
    text = "\n".join(f"{name:<{width}}{value}" for name, value in rows)
    ax.text(0.0, 1.0, text, va="top", ha="left", family="monospace", fontsize=10.5,
            transform=ax.transAxes, linespacing=1.7)  # fmt: skip


# -- classifiers ------------------------------------------------------------------------------


def classifier_figure(meta: dict[str, Any]) -> Figure:
    report, labels = meta["validation"], list(meta["labels"])
    scores = report.get("eval")
    fig = _figure(14.0, max(6.0, 0.32 * len(labels) + 3.0))
    grid = fig.add_gridspec(2, 3, width_ratios=(1.25, 1.0, 1.1), height_ratios=(1.0, 1.0))
    _text_panel(fig.add_subplot(grid[0, 0]), f"{meta['name']}: int8 classifier",
                classifier_figures(report))  # fmt: skip
    if scores:
        _accuracy_bars(fig.add_subplot(grid[1, 0]), scores)
        _per_class(fig.add_subplot(grid[:, 1]), scores["per_class"], labels)
        confusion, rows = scores["confusion"], "true label"
    else:
        confusion, rows = report["calibration"]["confusion"], "float model's prediction"
    ax = fig.add_subplot(grid[:, 2])
    _confusion(ax, np.asarray(confusion), labels, rows)
    return fig


def _accuracy_bars(ax: Axes, scores: dict[str, Any]) -> None:
    names = ["top-1", f"top-{scores['top_k']}", "agreement"]
    floats = [scores["float"]["top1"], scores["float"]["topk"], np.nan]
    int8s = [scores["quantized"]["top1"], scores["quantized"]["topk"], scores["agreement"]]
    x = np.arange(len(names))
    ax.bar(x - 0.2, floats, 0.4, color=FLOAT, label="float")
    bars = ax.bar(x + 0.2, int8s, 0.4, color=INT8, label="int8")
    ax.bar_label(bars, [_pct(v) for v in int8s], fontsize=9, padding=2)
    ax.set_xticks(x, names)
    ax.set_ylim(0, 1.12)
    ax.set_ylabel(f"on {scores['images']} eval images")
    _legend(ax)
    ax.set_title("accuracy, float vs int8", fontsize=11)


def _legend(ax: Axes) -> None:
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2, fontsize=9, frameon=False)


def _per_class(ax: Axes, per_class: dict[str, Any], labels: Sequence[str]) -> None:
    y = np.arange(len(labels))
    floats = [per_class[label]["float"] for label in labels]
    int8s = [per_class[label]["quantized"] for label in labels]
    ax.barh(y - 0.2, floats, 0.4, color=FLOAT, label="float")
    ax.barh(y + 0.2, int8s, 0.4, color=INT8, label="int8")
    for row, label in enumerate(labels):
        gap = per_class[label]["gap"]
        note = f"{100 * gap:+.1f}" if abs(gap) >= 0.0005 else "="
        ax.text(1.02, row, note, va="center", fontsize=8, color=LINE if gap > 0 else "black")
    ax.set_yticks(y, labels, fontsize=9 if len(labels) <= 30 else 6)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.12)
    ax.set_xlabel("accuracy (right: float - int8, in points)")
    _legend(ax)
    ax.set_title("per class, float vs int8", fontsize=11)


def _confusion(ax: Axes, confusion: np.ndarray, labels: Sequence[str], rows: str) -> None:
    size = len(labels)
    ax.imshow(confusion, cmap="Blues")
    small = 9 if size <= 12 else 7 if size <= 25 else 0
    for (row, col), count in np.ndenumerate(confusion):
        if count and small:
            dark = count > confusion.max() / 2
            ax.text(col, row, str(count), ha="center", va="center", fontsize=small,
                    color="white" if dark else "black")  # fmt: skip
    ticks = 9 if size <= 30 else 6
    ax.set_xticks(range(size), labels, fontsize=ticks, rotation=90 if size > 12 else 0)
    ax.set_yticks(range(size), labels, fontsize=ticks)
    ax.set_xlabel("predicted (int8 model)")
    ax.set_ylabel(rows)
    ax.set_title("confusion matrix", fontsize=11)


# -- autoencoders -----------------------------------------------------------------------------


def autoencoder_figure(meta: dict[str, Any]) -> Figure:
    report = meta["validation"]
    fig = _figure(14.0, 5.5)
    grid = fig.add_gridspec(1, 2, width_ratios=(1.0, 1.4))
    _text_panel(fig.add_subplot(grid[0, 0]), f"{meta['name']}: int8 autoencoder",
                autoencoder_figures(report))  # fmt: skip
    ax = fig.add_subplot(grid[0, 1])
    if "histogram" in report:
        _histogram(ax, report["histogram"])
    else:
        _percentiles(ax, report)
    ax.axvline(report["threshold"], color=LINE, linestyle="--",
               label=f"threshold {report['threshold']:.4f}")  # fmt: skip
    ax.set_xlabel(f"reconstruction error ({report.get('metric', 'mse').upper()}), int8 model")
    ax.legend(fontsize=9)
    return fig


def _histogram(ax: Axes, histogram: dict[str, Any]) -> None:
    edges = np.asarray(histogram["edges"])
    colors = {"calibration": FLOAT, "normal": INT8, "anomaly": "#e67e22"}
    for name, counts in histogram["counts"].items():
        ax.stairs(counts, edges, fill=True, alpha=0.55, color=colors.get(name),
                  label=f"{name} ({sum(counts)})")  # fmt: skip
    ax.set_ylabel("images")
    ax.set_title("reconstruction errors", fontsize=11)


def _percentiles(ax: Axes, report: dict[str, Any]) -> None:
    """For sidecars without a histogram: the calibration percentiles and the eval means."""
    rows: list[tuple[str, list[float]]] = []
    for model in ("quantized", "float"):
        d = report["calibration"][model]
        rows.append((f"calibration, {'int8' if model == 'quantized' else 'float'}",
                     [d["median"], d["p90"], d["p99"], d["max"]]))  # fmt: skip
    for group in ("normal", "anomaly"):
        if group in report.get("eval", {}):
            rows.append((f"{group}, mean", [report["eval"][group]["mean_error"]]))
    for y, (name, values) in enumerate(rows):
        ax.plot(values, [y] * len(values), "o-", color=INT8 if "int8" in name else FLOAT)
    ax.set_yticks(range(len(rows)), [name for name, _ in rows])
    ax.invert_yaxis()
    ax.set_title("reconstruction errors (median, p90, p99, max)", fontsize=11)


# -- files ------------------------------------------------------------------------------------


def write_report_image(path: Path, meta: dict[str, Any]) -> Path:
    """Draw the report of a bundle's sidecar ``meta`` to ``path`` (a PNG)."""
    draw = classifier_figure if meta["kind"] == "classifier" else autoencoder_figure
    draw(meta).savefig(path)
    logger.info("wrote %s", path)
    return path


def _pct2(value: float) -> str:
    return f"{100 * value:.2f}%"


def summary_lines(meta: dict[str, Any]) -> list[str]:
    """A few lines saying what was converted and how the quantized model compares."""
    report = meta["validation"]
    head = (f"{meta['name']}: {meta['kind']}, {meta['quantization']}, input "
            f"{meta['input']['shape']} {meta['input']['dtype']}")  # fmt: skip
    figures = classifier_figures if meta["kind"] == "classifier" else autoencoder_figures
    lines = [head, *(f"  {name}: {value}" for name, value in figures(report))]
    if meta["kind"] == "autoencoder" and "calibration" in meta["anomaly"]:
        lines.append(f"  training: {_training_line(meta['anomaly']['calibration'])}")
    return lines


def _training_line(calibration: dict[str, Any]) -> str:
    """Whether the promise holds: only for calibration images the model did not train on."""
    used, images = calibration.get("in_training"), calibration["images"]
    if used is None:
        return "unknown whether the calibration images were used in training (no hashes)"
    if used:
        return f"{used} of {images} calibration images were used in training: more false alarms"
    return f"none of the {images} calibration images was used in training"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m convert.report NAME.json``: draw NAME.report.png again from the sidecar."""
    parser = argparse.ArgumentParser(prog="python -m convert.report", description=main.__doc__)
    parser.add_argument("sidecars", nargs="+", type=Path, metavar="SIDECAR")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for sidecar in args.sidecars:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        write_report_image(report_path(sidecar), meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
