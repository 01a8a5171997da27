"""Deprecated path: this module moved to :mod:`activelab.app.store`.

Importing ``activelab.store`` warns; the path goes in 0.3.
"""

from activelab._deprecated import forward

__getattr__, __dir__ = forward(__name__, "activelab.app.store")
