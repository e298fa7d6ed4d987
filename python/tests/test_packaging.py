"""``pip install ./python`` works with no package index: into a fresh virtual environment, with a
build backend the machine already has (setuptools, plus wheel before setuptools 70.1) and
``--no-build-isolation``; the installed package imports from anywhere and ships ``py.typed``."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from typing import Optional

from .support import ROOT

HAS_BACKEND = (
    "import setuptools, setuptools.build_meta\n"
    "try:\n    from setuptools.command import bdist_wheel\nexcept ImportError:\n    import wheel\n"
)


def python_with_backend() -> Optional[str]:
    """This Python if it can build wheels offline, else the system's (Debian ships setuptools and wheel)."""
    for candidate in (sys.executable, shutil.which("python3", path="/usr/bin")):
        if candidate and subprocess.run([candidate, "-c", HAS_BACKEND], capture_output=True).returncode == 0:
            return candidate
    return None


class PackagingTests(unittest.TestCase):
    def test_pip_installs_the_package_offline_into_a_virtual_environment(self) -> None:
        base = python_with_backend()
        if base is None:
            if os.environ.get("CI"):
                self.fail("no Python here has setuptools and wheel: CI cannot check `pip install ./python`")
            self.skipTest("no Python here has setuptools and wheel, and no package index is reachable")
        with tempfile.TemporaryDirectory(prefix="mk-venv-") as d:
            venv = os.path.join(d, "venv")
            # --system-site-packages: the venv sees the backend; meterkit itself goes into the venv.
            subprocess.run([base, "-m", "venv", "--system-site-packages", venv], check=True, capture_output=True, timeout=120)
            python = os.path.join(venv, "Scripts" if os.name == "nt" else "bin", "python")
            # A copy, so the build's leftovers (build/, *.egg-info) stay out of the checkout.
            source = os.path.join(d, "python")
            shutil.copytree(os.path.join(ROOT, "python"), source, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__"))
            install = subprocess.run(
                [python, "-m", "pip", "install", "--no-build-isolation", "--no-index", "--disable-pip-version-check", source],
                capture_output=True, text=True, timeout=300)
            self.assertEqual(install.returncode, 0, install.stdout + install.stderr)
            check = subprocess.run(
                [python, "-c", "import meterkit, importlib.resources as r; print(meterkit.__version__, meterkit.__file__, "
                               "r.files('meterkit').joinpath('py.typed').is_file())"],
                capture_output=True, text=True, cwd=d, timeout=60)
            self.assertEqual(check.returncode, 0, check.stderr)
            version, path, typed = check.stdout.split()
            self.assertEqual(version, __import__("meterkit").__version__)
            self.assertTrue(path.startswith(venv), path)
            self.assertEqual(typed, "True")


if __name__ == "__main__":
    unittest.main()
