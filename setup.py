"""Build the optional native block counter; armsim falls back to Python without it."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("armsim._blockcount", ["armsim/_blockcount.c"], optional=True,
                             extra_compile_args=["-O2", "-Wall"])])
