"""Import an example module from its file under a unique name, with its environment set."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

_serial = itertools.count()


def load_example(path: Path) -> ModuleType:
    """Execute ``path`` as a fresh module (the caller sets the environment it reads first)."""
    name = f"tessera_example_{path.stem}_{next(_serial)}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
