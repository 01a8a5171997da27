"""Counts in messages read "1 label", "2 labels": one helper, every message family."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from activelab._text import count
from activelab.cli import main


def test_count_is_singular_for_one_only() -> None:
    assert [count(n, "label") for n in (0, 1, 2)] == ["0 labels", "1 label", "2 labels"]
    assert count(0.6, "run") == "1 run" and count(1, "entry", "entries") == "1 entry"


def test_stopping_text_after_one_label() -> None:
    from activelab.app.training import stopping_text

    text = stopping_text(
        {
            "stabilizing_predictions": {"fired": True, "since": 1},
            "confidence": {"fired": True, "since": 1},
        }
    )
    assert text == "stopping: predictions stable since 1 label; model confident since 1 label"


def test_status_and_review_of_one_item(tmp_path: Path) -> None:
    from activelab.app.project import CONFIG_NAME
    from activelab.app.quality import doubtful_text
    from activelab.app.store import Store

    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = Store.create(url, {"name": "p", "kind": "text", "labels": ["no", "yes"]})
    store.add_items([{"external_id": "x0", "kind": "text", "content": {"text": "a"}}])
    for name, label in (("ada", "no"), ("bob", "yes")):
        store.append_event(0, store.add_annotator(name)[0].id, "label", label=label, overlap=2)
    store.close()
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / CONFIG_NAME).write_text(json.dumps({"db": url}))
    runner = CliRunner()
    status = runner.invoke(main, ["status", str(tmp_path / "proj")], env={"COLUMNS": "200"})
    assert ": 1 text item, " in status.output and "answers: 2 on 1 item, " in status.output
    review = runner.invoke(main, ["review", str(tmp_path / "proj")])
    assert review.output.startswith("1 disputed item:\n"), review.output
    assert doubtful_text(1, {}, "p") == (
        "1 doubtful single answer: second opinions would settle it, but they are off "
        "(init --second-opinions); activelab review p --doubtful lists it"
    )


def test_simulate_report_of_one_seed_and_one_run() -> None:
    from activelab.simulation.report import _reach

    assert _reach({"of": 1, "reached": 1, "mean": 40.0}) == "40 (1/1 seed)"


def test_query_on_a_pool_of_one_row(capsys: pytest.CaptureFixture[str]) -> None:
    from activelab.cli.query import _capped

    assert _capped(5, np.zeros((1, 2)), None) == 1
    assert "The pool has 1 row to rank, fewer than -n 5: that one." in capsys.readouterr().err


def test_one_candidate_left() -> None:
    from activelab.strategies._base import _check_batch_size

    with pytest.raises(ValueError, match="only 1 unlabelled candidate remains; ask for at most 1"):
        _check_batch_size(2, 1)
