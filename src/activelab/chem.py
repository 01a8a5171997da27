"""Deprecated path: this module moved to :mod:`activelab.data.chem`.

Importing ``activelab.chem`` warns; the path goes in 0.3.
"""

from activelab._deprecated import forward

__getattr__, __dir__ = forward(__name__, "activelab.data.chem")
