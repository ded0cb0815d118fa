"""Figures for papers.  The only part of rmtfp that imports matplotlib, and
only when a plotting function is called.

Every function takes a result object (computation never plots) and returns
the matplotlib ``Figure``; ``save_figure`` writes it.
"""

from __future__ import annotations

from ._common import save_figure
from .basins import *  # noqa: F401,F403
from .basins import __all__ as _basins_all
from .criticality import *  # noqa: F401,F403
from .criticality import __all__ as _criticality_all
from .ensembles import *  # noqa: F401,F403
from .ensembles import __all__ as _ensembles_all
from .spectra import *  # noqa: F401,F403
from .spectra import __all__ as _spectra_all

__all__ = ["save_figure", *_spectra_all, *_basins_all, *_ensembles_all, *_criticality_all]
