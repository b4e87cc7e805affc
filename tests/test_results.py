"""Typed results: every command's --json is the documented form (the JSON Schemas in
armsim/schemas/, checked here on each variant), and fields that do not apply are left out."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from armsim.cli import main
from armsim.model.inputs import DEFAULT_MODEL, data_file
from armsim.session.results import ABSENT, HostOutputs, SimulateResult, schema

SCHEMAS = ("simulate", "validate", "profile", "run")


@pytest.fixture(scope="module")
def int8_model(tmp_path_factory, default_ref, mnist_dir) -> Path:
    from armsim.model import mnist
    from armsim.model.quantize import quantize

    path = tmp_path_factory.mktemp("results") / "seed.tflite"
    quantize(default_ref[1], mnist.scale(mnist.load("train", mnist_dir).images[:32]), path)
    return path


def run_json(capsys, args: list[str], code: int = 0) -> object:
    capsys.readouterr()
    assert main(args) == code
    return json.loads(capsys.readouterr().out)


def check(doc: object, name: str) -> None:
    jsonschema.validate(doc, schema(name))


@pytest.mark.parametrize("name", SCHEMAS)
def test_schemas_are_valid_json_schema(name):
    jsonschema.Draft202012Validator.check_schema(schema(name))


def test_absent_fields_are_left_out_and_null_is_kept():
    r = SimulateResult("x", None, [0.5], 10, "m4f")
    doc = r.to_json()
    assert doc["predicted"] is None and "label" not in doc and "host" not in doc
    assert r.label is ABSENT and not r.label
    r.host = HostOutputs("model", 3, [0.1])
    r.diagnosis = None
    doc = r.to_json()
    assert doc["host"] == {"source": "model", "predicted": 3, "outputs": [0.1]}
    assert "diagnosis" in doc and doc["diagnosis"] is None
    check(doc | {"versions": {}}, "simulate")
    with pytest.raises(jsonschema.ValidationError):  # an undocumented key is refused
        check(doc | {"surprise": 1}, "simulate")


def test_simulate_float_forms(capsys, mnist_dir):
    rows = run_json(capsys, ["simulate", "--json", "--image", "0", "--image", "1", "--layers",
                             "--check-bounds"])
    check(rows, "simulate")
    assert isinstance(rows, list) and all("diagnosis" in r and "overruns" in r for r in rows)
    one = run_json(capsys, ["simulate", "--json"])
    check(one, "simulate")


def test_simulate_and_validate_int8_forms(capsys, int8_model, mnist_dir):
    row = run_json(capsys, ["simulate", "--json", "--model", str(int8_model), "--image", "3",
                            "--layers", "--float-model", str(data_file(DEFAULT_MODEL))])
    check(row, "simulate")
    assert {"outputs_q", "max_abs_diff_q", "quantization", "diagnosis"} <= set(row)
    res = run_json(capsys, ["validate", "--json", "--model", str(int8_model), "--n", "12"])
    check(res, "validate")
    assert res["dtype"] == "int8" and "rmse" not in res
    cm = res["confusion_matrix"]  # labelled MNIST: int8 validations have them too
    assert sum(map(sum, cm["emulator"])) == 12 and res["mcu"] == "generic"


def test_validate_float_and_script_forms(tmp_path, capsys, mnist_dir):
    res = run_json(capsys, ["validate", "--json", "--n", "12", "--layers"])
    check(res, "validate")
    assert "confusion_matrix" in res and "diagnosis" in res and "dtype" not in res
    script = tmp_path / "s.ini"
    assert main(["export", str(data_file(DEFAULT_MODEL)), "--image", "0", "--out",
                 str(script)]) == 0
    row = run_json(capsys, ["simulate", "--json", "--script", str(script)])
    check(row, "simulate")
    assert row["host_source"] == "rebuilt from the script's weights" and "note" in row


def test_profile_and_run_forms(tmp_path, capsys, mnist_dir):
    prof = run_json(capsys, ["profile", "--json"])
    check(prof, "profile")
    assert prof["input"] and "agree" in prof
    check(run_json(capsys, ["profile", "--json", "--compare-cpus"]), "profile")
    elf = tmp_path / "fw.elf"
    assert main(["build", "--out", str(elf)]) == 0
    run = run_json(capsys, ["run", str(elf), "--json", "--read", "armsim_predicted:1:i32",
                            "--between", "armsim_network_run", "armsim_finish"])
    check(run, "run")
    assert run["between"]["instructions"] > 0 and "versions" in run
