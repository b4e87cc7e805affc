"""``armsim quantize``: a Keras model to a fully-int8 ``.tflite`` file for the int8 commands."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from armsim.cli import common as C
from armsim.cli import options as O
from armsim.errors import EXIT_OK, ArmsimError
from armsim.model import inputs, mnist
from armsim.model.frontends import tflite as T
from armsim.model.quantize import quantize
from armsim.report import tables as render
from armsim.session.versions import versions


def add_parser(sub: Any) -> None:
    """Register the command."""
    q = sub.add_parser("quantize", help="quantize a Keras model to a fully-int8 .tflite",
                       description="Convert a .keras model to a fully-int8 TFLite file (int8 "
                       "activations and weights, int32 biases, per-channel weight scales, "
                       "int8 input and output) with TFLite's converter, calibrated on N "
                       "inputs: MNIST training images for 28x28x1 models, else --inputs.")
    q.add_argument("model", help=".keras model")
    q.add_argument("--out", required=True, help="the .tflite file to write")
    q.add_argument("--activations", choices=("int8", "int16"), default="int8",
                   help="activation type: int8 (default), or int16 for a 16x8 file (int16 "
                   "activations, int8 weights, int64 biases, int16 input and output)")
    q.add_argument("--calibration", type=O.positive_int, default=200, metavar="N",
                   help="calibration inputs (default 200)")
    O.add_inputs(q, "calibration inputs (.npy, or .npz with x) instead of MNIST")
    q.add_argument("--trust-model", action="store_true",
                   help="load models that need safe_mode off (only for files you trust)")
    O.add_data(q)
    q.add_argument("--json", action="store_true", help="print JSON instead of a summary")
    q.set_defaults(func=run)


def calibration_inputs(args: argparse.Namespace, g: Any, n: int) -> tuple[np.ndarray, str]:
    """The first ``n`` calibration inputs: --inputs, or MNIST training images."""
    if getattr(args, "inputs", None):
        xs, _ = inputs.read_inputs(args.inputs, g)
        return xs[:n], f"{min(n, len(xs))} inputs from {args.inputs}"
    if not inputs.is_mnist_shaped(g):
        shape = g.tensors[g.inputs[0]].shape
        raise ArmsimError(f"model '{g.name}' takes inputs of shape {shape}, not MNIST images: "
                            "give --inputs X.npy for calibration")
    split = mnist.load("train", args.data or inputs.shared_mnist())
    shape = g.tensors[g.inputs[0]].shape
    how = getattr(args, "mnist_scale", "seed")
    xs = inputs.mnist_scale(split.images[:n], how).reshape((-1,) + shape)
    return xs, f"{len(xs)} MNIST training images, pixels v scaled {inputs.MNIST_SCALES[how]}"


def run(args: argparse.Namespace) -> int:
    """Quantize, then read the file back as armsim's int8 graph."""
    out = O.check_output(args.out, (".tflite",), "--out")
    assert out is not None
    ref = C.load_model(args)
    assert ref is not None
    if ref.graph.quantized:
        raise ArmsimError(f"{args.model} is already a quantized TFLite model")
    xs, what = calibration_inputs(args, ref.graph, args.calibration)
    data = quantize(ref.keras, xs, out, args.activations)
    g = T.read(data, str(out))
    ops = sorted({o.layer for o in g.ops})
    res = {"model": ref.graph.name, "out": str(out), "bytes": len(data), "calibration": what,
           "activations": args.activations,
           "ops": ops, "input": g.tensors[g.inputs[0]].quant.to_json(),  # type: ignore[union-attr]
           "output": g.tensors[g.outputs[0]].quant.to_json(),  # type: ignore[union-attr]
           "versions": versions()}
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        kind = "16x8" if args.activations == "int16" else "int8"
        render.note(f"wrote {out} ({len(data):,} bytes): {ref.graph.name} in {kind}, calibrated "
                    f"on {what}; TFLite ops {', '.join(ops)}")
    return EXIT_OK


__all__ = ["add_parser", "run", "calibration_inputs"]
