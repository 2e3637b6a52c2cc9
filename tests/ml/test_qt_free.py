"""The science core never imports Qt: it must run in scripts, torchrun and headless CI."""

import subprocess
import sys


def test_importing_every_ml_module_does_not_import_qt():
    code = (
        "import importlib, pkgutil, sys, studio.ml as ml\n"
        "for m in pkgutil.walk_packages(ml.__path__, 'studio.ml.'): importlib.import_module(m.name)\n"
        "import studio.catalog, studio.plugin_manager, studio.cli\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'superqt'))\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
