"""``activelab query``: rank a pool file with a fitted model, in-process or on Dask."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import click

__all__ = ["query"]


def _read_pool(
    path: Path, columns: tuple[str, ...], on_dask: bool, named: list[str] | None = None
) -> Any:
    """The pool's feature matrix: ``columns``, else the model's ``named`` columns, else all."""
    import numpy as np

    suffix = path.suffix.lower()
    if not path.exists() and "*" not in str(path):
        raise click.BadParameter(f"{path} does not exist.", param_hint="--pool")
    if suffix == ".npy":
        if on_dask:
            import dask.array as da

            return da.from_array(np.load(path, mmap_mode="r"), chunks=(250_000, -1))
        return np.load(path, mmap_mode="r")
    if suffix not in (".parquet", ".csv"):
        raise click.BadParameter(f"{path}: use a .parquet, .csv or .npy file.", param_hint="--pool")
    if on_dask:
        import dask.dataframe as dd

        frame = dd.read_parquet(path) if suffix == ".parquet" else dd.read_csv(path)
    else:
        import pandas as pd

        frame = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    if columns:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise click.BadParameter(
                f"{path} has no column {missing[0]!r}; it has {list(frame.columns)}.",
                param_hint="--column",
            )
        frame = frame[list(columns)]
    elif named:
        missing = [c for c in named if c not in frame.columns]
        if missing:
            raise click.ClickException(
                f"{path} lacks the model's feature column(s) {missing}; it has "
                f"{list(frame.columns)}. Give the columns in the model's order with --column."
            )
        frame = frame[named]
    bad = [c for c, kind in frame.dtypes.items() if kind.kind not in "biuf"]
    if bad:
        raise click.ClickException(
            f"{path}: column(s) {bad} are not numeric; name the feature columns with --column "
            "(repeat it)."
        )
    return frame if on_dask else frame.to_numpy(dtype=float)


@click.command()
@click.option(
    "--model",
    "model_path",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="A fitted model saved with joblib (e.g. by `activelab model`).",
)
@click.option(
    "--pool",
    "--data",
    "pool_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The pool: .parquet (a file or a folder of parts), .csv or .npy.",
)
@click.option(
    "--column",
    "columns",
    multiple=True,
    help="A feature column; repeat it  [default: the model's own columns when it names them "
    "(a table project's model does), else all].",
)
@click.option(
    "--strategy",
    default="margin",
    show_default=True,
    help="A strategy that needs only a fitted model.",
)
@click.option("-n", "--n", "n", default=100, show_default=True, help="How many items to return.")
@click.option(
    "--exclude",
    type=click.Path(exists=True, path_type=Path),
    help="A text file of pool row numbers to leave out (one per line).",
)
@click.option(
    "--dask",
    "dask_spec",
    default=None,
    help="Score on Dask: 'local' starts a LocalCluster, or tcp://HOST:PORT.",
)
@click.option("--out", type=click.Path(path_type=Path), help="Write the row numbers here.")
def query(
    model_path: Path,
    pool_path: Path,
    columns: tuple[str, ...],
    strategy: str,
    n: int,
    exclude: Path | None,
    dask_spec: str | None,
    out: Path | None,
) -> None:
    """Rank the rows of a pool file by how much the model needs their labels.

    With --dask the file is read on the workers (Parquet or CSV), so the pool
    never passes through this machine; only the winners come back.
    """
    import joblib
    import numpy as np

    from activelab.cluster import DaskBackend, connect
    from activelab.ranking import rank_pool

    model = joblib.load(model_path)
    named = getattr(model, "feature_names_in_", None)  # a model fitted on named columns
    named = [str(c) for c in named] if named is not None else None
    client = connect(dask_spec)
    try:
        X = _read_pool(pool_path, columns, client is not None, named)
        skip = np.loadtxt(exclude, dtype=np.int64, ndmin=1) if exclude else None
        backend = DaskBackend(client) if client is not None else None
        try:
            with warnings.catch_warnings():  # the columns were picked by name above
                warnings.filterwarnings("ignore", message="X does not have valid feature names")
                picks = rank_pool(model, X, n, strategy=strategy, exclude=skip, backend=backend)
        except (ValueError, TypeError, IndexError) as exc:
            raise click.ClickException(str(exc)) from exc
    finally:
        if client is not None:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None and dask_spec == "local":
                cluster.close()
    text = "\n".join(str(int(i)) for i in picks)
    if out:
        out.write_text(text + "\n")
        click.echo(f"Wrote {len(picks)} row numbers to {out}.")
    else:
        click.echo(text)
