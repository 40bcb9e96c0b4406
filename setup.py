"""`pip install .`: the kunsim Python module, built by CMake from the same sources as the CLI.

On Debian 12 (an externally managed Python, no network for build isolation):

    /usr/bin/python3 -m venv --system-site-packages .venv
    .venv/bin/pip install --no-build-isolation .

--system-site-packages lets the venv see Debian's python3-pandas; CMake, Ninja, pybind11-dev and
python3-dev come from apt (tools/dev.sh build installs them). Only the module's target is built,
without tests or CUDA, in build-pip/.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
VERSION = re.search(r"project\(kunsim VERSION (\S+)", (ROOT / "CMakeLists.txt").read_text()).group(1)


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = ROOT / "build-pip" / "cmake"
        configure = ["cmake", "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release"]
        if shutil.which("ninja") and not (build_dir / "CMakeCache.txt").exists():
            configure += ["-G", "Ninja"]
        configure += ["-DKUNSIM_BUILD_TESTS=OFF", "-DKUNSIM_BUILD_CUDA=OFF", f"-DPython_EXECUTABLE={sys.executable}"]
        subprocess.check_call(configure)
        subprocess.check_call(["cmake", "--build", str(build_dir), "--target", "_kunsim", "-j", str(os.cpu_count() or 1)])
        built = build_dir / "python" / "kunsim" / os.path.basename(self.get_ext_filename("_kunsim"))
        dest = Path(self.get_ext_fullpath(ext.name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, dest)


(ROOT / "build-pip").mkdir(exist_ok=True)
setup(
    name="kunsim",
    version=VERSION,
    description="Discrete-event simulator of LLM-serving GPU clusters, priced by measured GPU kernels",
    packages=["kunsim"],
    package_dir={"kunsim": "python/kunsim"},
    ext_modules=[CMakeExtension("kunsim._kunsim")],
    cmdclass={"build_ext": CMakeBuild},
    options={"build": {"build_base": "build-pip"}, "egg_info": {"egg_base": "build-pip"}},
    install_requires=["pandas"],
    python_requires=">=3.9",
)
