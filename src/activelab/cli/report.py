"""``activelab report``: one HTML page from a simulation results file."""

from __future__ import annotations

import click

__all__ = ["report"]


@click.command()
@click.argument("results", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out",
    default=None,
    type=click.Path(dir_okay=False),
    help="The HTML page  [default: RESULTS with .html].",
)
def report(results: str, out: str | None) -> None:
    """Write a self-contained HTML page: learning curves, metrics table, settings."""
    from activelab.simulation.report import write_report

    try:
        path = write_report(results, out)
    except UnicodeDecodeError:
        raise click.ClickException(
            f"{results} is not a results file (not UTF-8 text); give the JSON file "
            "`activelab simulate` wrote (its --out, results.json by default)."
        ) from None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    except (KeyError, TypeError, IndexError) as exc:  # a results file edited or cut short
        raise click.ClickException(
            f"{results} is not a complete simulation results file (its {exc} part is missing "
            "or malformed); run `activelab simulate` again to write it."
        ) from None
    click.echo(f"Wrote {path}")
