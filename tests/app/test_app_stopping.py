"""The stopping check of a labelling project across restarts, added items and older databases.

The tests of a project's store run on SQLite and on PostgreSQL (``project_db`` of ``conftest.py``).

"More labels still pay?" compares the latest two models' predictions on the stop set; the
predictions of each model are stored with its version, so a restarted server (or a trainer
process, or ``activelab add``) compares its first model with the one trained before.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from click.testing import CliRunner

from activelab.app.extend import extend_project, read_new_items
from activelab.app.project import open_project
from activelab.app.service import LabellingService
from activelab.app.training import stop_set, stopping_text
from activelab.cli import main

from .conftest import write_table_csv


def _label(svc: LabellingService, who, n: int) -> None:
    """Answer ``n`` items: ``high`` when the item's first feature is positive."""
    for _ in range(n):
        item = svc.next_item(who)
        svc.answer(who, item.id, "high" if svc.X[item.id, 0] > 0 else "low")


def test_the_stopping_check_survives_a_restart_and_status_shows_it(
    table_project, project_db
) -> None:
    project = table_project(200, db_url=project_db)
    store = open_project(project)
    ada, _ = store.add_annotator("ada")
    svc = LabellingService(store)
    _label(svc, ada, 20)
    svc.retrain()
    _label(svc, ada, 10)
    svc.retrain()
    before = svc.progress(ada)
    assert before.still_pays is not None and before.stopping_text is not None
    _label(svc, ada, 10)
    store.close()

    # a restarted server: a new store and service over the same project
    store = open_project(project)
    again = LabellingService(store)
    assert again.progress(ada).stopping_text == before.stopping_text  # the stored read-out
    result = again.retrain()
    pays = result.metrics["still_pays"]
    assert pays["agreement"] is not None and pays["value"] is not None, pays
    assert "needs two trained models" not in pays["reason"]
    stab = result.metrics["stopping"]["stabilizing_predictions"]
    assert stab["fired"] is not None and stab["agreement"] == pays["agreement"]
    p = again.progress(ada)
    version, text = p.model_version, p.stopping_text
    assert "needs two" not in text
    store.close()

    # activelab status shows the same figures as the app
    r = CliRunner().invoke(main, ["status", str(project), "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    assert info["model_version"] == version
    assert info["still_pays"] == pays and info["stopping"] == result.metrics["stopping"]
    r = CliRunner().invoke(main, ["status", str(project)])
    assert r.exit_code == 0, r.output
    assert pays["reason"] in " ".join(r.output.split())
    assert text in " ".join(r.output.split())


def test_a_project_made_before_the_predictions_were_stored_still_trains(
    table_project, project_db
) -> None:
    project = table_project(120, db_url=project_db)
    store = open_project(project)
    ada, _ = store.add_annotator("ada")
    svc = LabellingService(store)
    _label(svc, ada, 16)
    svc.retrain()
    url = store.url
    store.close()
    engine = sa.create_engine(url)  # the table as it was before the column existed
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE model_versions DROP COLUMN stop_predictions")
    engine.dispose()

    store = open_project(project)  # the store adds the column back, empty
    assert store.stop_predictions(store.latest_version()) is None
    svc = LabellingService(store)
    first = svc.retrain().metrics["still_pays"]
    assert first["reason"] == "needs two trained models" and first["agreement"] is None
    assert svc.retrain().metrics["still_pays"]["agreement"] == 1.0  # same labels, same model
    assert len(store.model_versions()) == 4 and store.current_labels()  # nothing lost
    store.close()


def test_models_before_and_after_activelab_add_are_compared_on_the_items_they_share(
    table_project, tmp_path: Path
) -> None:
    project = table_project(150)
    store = open_project(project)
    ada, _ = store.add_annotator("ada")
    svc = LabellingService(store)
    _label(svc, ada, 20)
    svc.retrain()
    stored = store.stop_predictions(store.latest_version())
    assert stored is not None and stored[0].tolist() == list(range(150))
    new = write_table_csv(tmp_path / "more.csv", 170, seed=1)
    lines = new.read_text().splitlines()
    (tmp_path / "new.csv").write_text(
        "\n".join([lines[0], *(ln.replace("item-", "new-") for ln in lines[151:]), ""])
    )
    first, added, _, _ = extend_project(store, read_new_items(store, tmp_path / "new.csv"))
    assert (first, added) == (150, 20)
    pays = store.latest_model().metrics["still_pays"]
    assert pays["agreement"] is not None  # compared with the model before the new items
    assert "150-item sample" in pays["reason"]
    store.close()


def test_the_stop_set_keeps_its_items_as_the_pool_grows() -> None:
    base = stop_set(50_000)
    assert base.shape == (2000,) and np.array_equal(base, stop_set(50_000))
    grown = stop_set(52_000)
    kept = np.intersect1d(base, grown).shape[0]
    assert kept > 0.9 * 2000  # about 2000 * 50/52 stay; a fresh sample would keep about 80
    assert np.all(grown[~np.isin(grown, base)] >= 50_000)  # only new items come in
    assert np.array_equal(stop_set(300), np.arange(300))


def test_an_older_database_opened_by_two_processes_at_once_gets_the_column_once(
    tmp_path: Path, monkeypatch
) -> None:
    from activelab.app.store import Store

    url = f"sqlite:///{tmp_path / 'p.db'}"
    Store.create(url, {"labels": ["a", "b"]}).close()
    inspect, calls = sa.inspect, []

    class _Before:
        """This process's look at the tables, taken before another process added the column."""

        def __init__(self, target: object) -> None:
            self._insp = inspect(target)

        def get_columns(self, table: str) -> list[dict[str, object]]:
            cols = self._insp.get_columns(table)
            return [c for c in cols if (table, c["name"]) != ("model_versions", "stop_predictions")]

    def look(target: object) -> object:
        calls.append(target)
        return _Before(target) if len(calls) == 1 else inspect(target)

    monkeypatch.setattr(sa, "inspect", look)
    store = Store.open(url)  # its ALTER TABLE fails: the column is there already
    monkeypatch.undo()
    assert len(calls) == 2  # it looked again and found the column
    v = store.save_model_version(
        n_labels=0,
        last_event_id=0,
        strategy="margin",
        metrics={},
        model=None,
        stop_predictions=(np.array([0]), np.array(["a"])),
    )
    assert store.stop_predictions(v)[1].tolist() == ["a"]
    store.close()


def test_the_confidence_read_out_never_shows_two_equal_numbers_as_above():
    # a mean uncertainty of 0.0503 read "not yet confident (mean uncertainty 0.05 > 0.05)"
    text = stopping_text(
        {"confidence": {"fired": False, "mean_uncertainty": 0.0503, "threshold": 0.05}}
    )
    assert "mean uncertainty 0.0503 > 0.0500" in text
