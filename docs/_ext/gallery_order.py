"""The order of the examples on the gallery page: the library first, then the other doors."""

from __future__ import annotations

__all__ = ["ExampleOrder"]

#: Gallery scripts in reading order; any other script follows, by name.
ORDER = (
    "plot_library_loop.py",
    "plot_simulator.py",
    "plot_stream.py",
    "plot_auto_accuracy.py",
)


class ExampleOrder:
    """Sort key for sphinx-gallery's ``within_subsection_order``.

    Parameters
    ----------
    src_dir : str
        The gallery folder (unused; sphinx-gallery passes it).
    """

    def __init__(self, src_dir: str) -> None:
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple[int, str]:
        """The position of ``filename`` in :data:`ORDER`, then its name."""
        return (ORDER.index(filename) if filename in ORDER else len(ORDER), filename)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
