"""The science core never imports Qt: it must run in scripts, torchrun and headless CI."""

import subprocess
import sys


def test_importing_every_ml_module_does_not_import_qt():
    code = (
        "import importlib, pkgutil, sys\n"
        "import studio.ml as ml\n"
        "names = [m.name for m in pkgutil.walk_packages(ml.__path__, 'studio.ml.')]\n"
        "for name in names: importlib.import_module(name)\n"
        "qt_roots = {'PySide6', 'shiboken6', 'pyqtgraph', 'PyQt5', 'PyQt6'}\n"
        "qt = sorted(n for n in sys.modules if n.split('.')[0] in qt_roots)\n"
        "print(len(names), qt)\n"
        "sys.exit(1 if qt or len(names) < 10 else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
