"""Build the optional native block counter and ship the kernel tree inside the package.

armsim/machine/_blockcount is optional (armsim falls back to a Python counter without it). The C
kernels, runtime and linker script live at the top of the repository (kernels/); a build
copies them into armsim/kernels so a non-editable install can compile firmware anywhere.
"""

import shutil
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildPyWithKernels(build_py):
    """build_py that also copies kernels/ into the built package."""

    def run(self) -> None:
        super().run()
        dst = Path(self.build_lib) / "armsim" / "kernels"
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(HERE / "kernels", dst,
                        ignore=shutil.ignore_patterns("*.o", "*.a", "__pycache__"))


setup(ext_modules=[Extension("armsim.machine._blockcount", ["armsim/machine/_blockcount.c"],
                             optional=True, extra_compile_args=["-O2", "-Wall"])],
      cmdclass={"build_py": BuildPyWithKernels})
