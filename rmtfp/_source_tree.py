"""``rmtfp.validation`` when rmtfp runs from a source checkout.

The claims of the validation suite live in the repository's top-level
``validation/`` folder.  An installation (wheel, sdist or ``pip install -e``)
carries that folder as the subpackage ``rmtfp.validation`` (setup.py maps it
there).  Run from a checkout without installing (``PYTHONPATH=.``), the
package has no such subfolder: this finder gives the top-level folder the same
name, so ``import rmtfp.validation`` works in every mode.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys

_NAME = "rmtfp.validation"


class _ValidationFinder(importlib.abc.MetaPathFinder):
    """Finds ``rmtfp.validation`` (and nothing else) in ``folder``."""

    def __init__(self, folder: str):
        self.folder = folder

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _NAME:
            return None
        return importlib.util.spec_from_file_location(_NAME, os.path.join(self.folder, "__init__.py"),
                                                      submodule_search_locations=[self.folder])


def register_validation(package_dir: str) -> None:
    """Make ``<checkout>/validation`` importable as ``rmtfp.validation`` when ``package_dir`` lies in a checkout.

    Nothing happens for an installed rmtfp (its ``validation`` subpackage is
    found the ordinary way) or outside a checkout of rmtfp.
    """
    if os.path.isdir(os.path.join(package_dir, "validation")):
        return
    root = os.path.dirname(os.path.abspath(package_dir))
    folder = os.path.join(root, "validation")
    if not (os.path.isfile(os.path.join(folder, "__init__.py")) and os.path.isfile(os.path.join(root, "setup.py"))):
        return
    if not any(isinstance(f, _ValidationFinder) for f in sys.meta_path):
        # first: the claims beside the rmtfp package that was imported, even where an editable install of
        # another checkout maps rmtfp.validation to its own folder
        sys.meta_path.insert(0, _ValidationFinder(folder))
