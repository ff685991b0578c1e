"""``edge classify`` and ``edge colors``: the device's stages on image files, one line each."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from edge.commands.args import positive_int
from edge.errors import EX_FAILURE, ImageError


def _out(line: str) -> None:
    print(line, flush=True)


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# -- edge classify -----------------------------------------------------------------------


def cmd_classify(args: argparse.Namespace) -> int:
    from edge.images import load_rgb
    from edge.inference.classify import Classifier

    classifier = Classifier.from_bundle(args.model, num_threads=args.threads)
    failures = 0
    for path in args.images:
        try:
            result = classifier.classify(load_rgb(path), top_k=args.top_k)
        except ImageError as exc:
            _err(f"edge classify: {exc}")
            failures += 1
            continue
        top = [label.as_dict() for label in result.top]
        if args.json:
            _out(json.dumps({"path": str(path), "top": top}))
        else:
            _out(f"{path}: " + ", ".join(f"{t['label']} ({t['score']:.3f})" for t in top))
    return EX_FAILURE if failures else 0


# -- edge colors -------------------------------------------------------------------------


def cmd_colors(args: argparse.Namespace) -> int:
    from edge.images import load_rgb
    from edge.inference.colors import dominant_colors

    failures = 0
    for path in args.images:
        try:
            colors = dominant_colors(load_rgb(path), k=args.k)
        except ImageError as exc:
            _err(f"edge colors: {exc}")
            failures += 1
            continue
        if args.json:
            _out(json.dumps({"path": str(path), "colors": [c.as_dict() for c in colors]}))
        else:
            _out(f"{path}: " + "  ".join(f"{c.hex} {c.fraction:.0%}" for c in colors))
    return EX_FAILURE if failures else 0


def add_classify_arguments(p: argparse.ArgumentParser) -> None:
    """``edge classify``: a bundle, image files, how many labels."""
    p.add_argument("--model", required=True, type=Path, help="classifier bundle (.tflite)")
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    p.add_argument("--top-k", type=positive_int, default=5, help="labels per image (default 5)")
    p.add_argument(
        "--threads", type=positive_int, default=1, help="interpreter threads (default 1)"
    )
    p.add_argument("--json", action="store_true", help="one JSON object per image")
    p.set_defaults(handler=cmd_classify)


def add_colors_arguments(p: argparse.ArgumentParser) -> None:
    """``edge colors``: image files, how many colors."""
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    p.add_argument("--k", type=positive_int, default=5, help="number of colors (default 5)")
    p.add_argument("--json", action="store_true", help="one JSON object per image")
    p.set_defaults(handler=cmd_colors)
