"""Deprecated path: this module moved to :mod:`activelab.simulation.plots`.

Importing ``activelab.plots`` warns; the path goes in 0.3.
"""

from activelab._deprecated import forward

__getattr__, __dir__ = forward(__name__, "activelab.simulation.plots")
