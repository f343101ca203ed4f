"""Fixtures shared by the project's tests."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run_nbgrader(args, cwd, check=True):
    """Run one of nbgrader's own commands in the course at ``cwd``; its log and output, in order, are in ``stdout``."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    process = subprocess.run([str(BIN / "nbgrader"), *args], cwd=cwd, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if check and process.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed:\n{process.stdout}")
    return process


def copy_course(destination):
    """A temporary course: the project's sources, releases and nbgrader configuration, nothing graded yet."""
    destination = Path(destination)
    for folder in ("solutions", "notebooks"):
        shutil.copytree(PROJECT / folder, destination / folder)
    shutil.copy(PROJECT / "nbgrader_config.py", destination)
    return destination
