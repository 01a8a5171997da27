"""``python -m activelab`` runs the command line."""

from activelab.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
