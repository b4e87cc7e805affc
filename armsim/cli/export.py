"""``armsim export``: a model's weights and one input as a uVision script, for any plan."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from armsim import __version__
from armsim.check.int8 import quantized_inputs
from armsim.cli import common as C
from armsim.cli import options as O
from armsim.errors import EXIT_OK, ArmsimError, DataError
from armsim.model import inputs, mnist
from armsim.model.tflite_host import TFLiteHost
from armsim.parts.mcus import DEFAULT_MCU, MCUS, get_mcu
from armsim.script.writer import hex_format, seed_format


def add_parser(sub: Any) -> None:
    """Register the command."""
    e = sub.add_parser("export", help="write weights and an input as a uVision script",
                       description="Write _WFLOAT lines for the plan's buffers (_WBYTE and "
                       "_WDWORD for int8 models, _WWORD for 16x8 activations): the seed "
                       "notebook's exact format for the seed layout, hex addresses with a "
                       "comment per buffer for any plan.")
    O.add_model(e, positional=True, help_="a .keras model, or an int8 or 16x8 .tflite "
                "(written as _WBYTE weights and int8 input, _WWORD int16 input, _WDWORD "
                "biases; an int64 bias as two _WDWORD, low word first)")
    e.add_argument("--image", type=O.non_negative_int, help="MNIST image index (28x28x1 models)")
    e.add_argument("--split", choices=("test", "train"), default="test")
    O.add_inputs(e, "take the input from this .npy/.npz instead")
    e.add_argument("--index", type=O.non_negative_int, default=0,
                   help="which row of --inputs (default 0)")
    e.add_argument("--no-input", action="store_true", help="weights only")
    e.add_argument("--input-only", action="store_true",
                   help="the input only (weights compiled into flash, or written elsewhere)")
    O.add_data(e)
    e.add_argument("--mcu", default=DEFAULT_MCU, type=O.mcu_name, metavar="{" + ",".join(MCUS) + "}",
                   help="MCU preset whose SRAM base a generated plan starts at")
    e.add_argument("--out", required=True, help="output .ini file")
    e.add_argument("--format", choices=("seed", "hex"),
                   help="seed: the notebook's '_WFLOAT (<decimal>,<value>) ' lines; hex: hex "
                        "addresses and comments (default: seed for the seed layout, else hex)")
    e.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export."""
    out = O.check_output(args.out, (), "--out")
    assert out is not None
    O.refuse(args.no_input and args.input_only, "--no-input and --input-only contradict")
    O.refuse(args.image is not None and bool(args.inputs), "--image and --inputs both give "
             "the input: give one")
    ref = C.load_model(args, default=False)
    assert ref is not None
    g = ref.graph
    mcu = get_mcu(args.mcu)
    plan = C.plan_for(args, g, mcu, weights_default="sram")  # a script writes the weights
    O.refuse(plan.weights_in == "flash" and not args.input_only and not args.no_input,
             "with --weights-in flash the weights are compiled into the firmware: pass "
             "--input-only (the script then carries only the input)")
    packed = {}
    if not args.input_only and plan.weights_in == "sram":
        packed.update(plan.pack(plan.constant_tensors()))
    what = "weights only"
    if not args.no_input:
        x, what = _input(args, g)
        if g.quantized:
            xq, _xf, how = quantized_inputs(g, TFLiteHost(ref.path, g), inputs.stack([x]))
            x, what = xq[0], f"{what}; {how}"
        for tensor, xk in zip(g.inputs, x if isinstance(x, tuple) else (x,)):
            b = plan.for_tensor(tensor)  # each input into its own buffer
            packed[b.name] = b.pack(xk)
    fmt = args.format or ("seed" if plan.preset == "seed" else "hex")
    if fmt == "seed":
        text = seed_format(plan, packed)
    else:
        text = hex_format(plan, packed, [
            f"armsim {__version__} export, plan {plan.preset} of model '{g.name}'",
            f"model: {args.model}", f"input: {what}"])
    out.write_text(text, newline="\n")
    print(f"wrote {out}: {text.count(chr(10))} lines ({fmt} format, plan {plan.preset}), "
          f"{what}")
    return EXIT_OK


def _input(args: argparse.Namespace, g: Any) -> tuple[Any, str]:
    if args.inputs:
        xs, ys = inputs.read_inputs(args.inputs, g)
        if args.index >= len(xs):
            raise ArmsimError(f"--index {args.index}: {args.inputs} holds {len(xs)} inputs")
        lab = "" if ys is None else f", label {int(ys[args.index])}"
        return xs[args.index], f"{args.inputs}[{args.index}]{lab}"
    O.refuse(args.image is None, "give the input: --image N (MNIST), --inputs X.npy, or "
             "--no-input")
    if not inputs.is_mnist_shaped(g):
        raise ArmsimError(f"model '{g.name}' does not take MNIST images: use --inputs X.npy")

    split = mnist.load(args.split, args.data or inputs.shared_mnist())
    if not args.image < len(split.images):
        raise DataError(f"--image {args.image} is out of range: the {args.split} split has "
                          f"{len(split.images)} images (0..{len(split.images) - 1})")
    x = inputs.mnist_scale(split.images[args.image:args.image + 1], args.mnist_scale)[0]
    x = x.reshape(g.tensors[g.inputs[0]].shape)
    return x, (f"MNIST {args.split} #{args.image}, label {int(split.labels[args.image])}, "
               f"pixels scaled {inputs.MNIST_SCALES[args.mnist_scale]}")
