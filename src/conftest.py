"""Doctest collection over ``src``: the deprecated stand-in modules are not collected.

They only forward to their new homes (whose doctests run there) and warn when imported.
"""

from pathlib import Path

_HERE = Path(__file__).parent / "activelab"

collect_ignore = [
    str(p)
    for p in _HERE.glob("*.py")
    if "from activelab._deprecated import forward" in p.read_text()
]
