"""The IDX reader: real files, and corrupt ones as clear errors."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from armsim.model import mnist
from armsim.errors import DataError


def test_reads_the_shared_files(test_split):
    assert test_split.images.shape == (10000, 28, 28)
    assert test_split.images.dtype == np.uint8
    assert test_split.labels[:3].tolist() == [7, 2, 1]


def test_scale_is_the_seeds():
    x = mnist.scale(np.array([[0, 255]], np.uint8))
    assert x.shape == (1, 2, 1)
    assert x[0, 0, 0] == -1.0 and x[0, 1, 0] == 1.0


def _write(path, magic, dims, payload):
    raw = struct.pack(f">{1 + len(dims)}I", magic, *dims) + payload
    path.write_bytes(gzip.compress(raw))


@pytest.mark.parametrize("case", ["truncated", "bad_magic", "not_gzip_garbage", "missing"])
def test_corrupt_files_are_data_errors(tmp_path, case):
    for (split, kind), stem in mnist.FILES.items():
        magic = mnist.IMAGE_MAGIC if kind == "images" else mnist.LABEL_MAGIC
        dims = (2, 28, 28) if kind == "images" else (2,)
        _write(tmp_path / f"{stem}.gz", magic, dims, bytes(int(np.prod(dims))))
    target = tmp_path / "t10k-images-idx3-ubyte.gz"
    if case == "truncated":
        _write(target, mnist.IMAGE_MAGIC, (2, 28, 28), bytes(100))
    elif case == "bad_magic":
        _write(target, 1234, (2, 28, 28), bytes(2 * 784))
    elif case == "not_gzip_garbage":
        target.write_bytes(b"\x1f\x8bnot really gzip")
    else:
        target.unlink()
    with pytest.raises(DataError, match="t10k-images"):
        mnist.load("test", tmp_path)
    assert mnist.load("train", tmp_path).images.shape == (2, 28, 28)


def test_missing_directory(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        mnist.load("test", tmp_path / "nope")


def test_no_directory_says_where_it_looked_and_a_file_is_not_a_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("ARMSIM_MNIST_DIR", raising=False)
    with pytest.raises(DataError, match="no MNIST directory.*does not download"):
        mnist.load("test", None)
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(DataError, match="is a file"):
        mnist.load("test", f)
