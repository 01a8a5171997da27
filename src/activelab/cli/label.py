"""``activelab label``: the labelling loop in the terminal (rich), over the same service."""

from __future__ import annotations

import getpass
import io
import sys
from pathlib import Path
from typing import Any

import click

__all__ = ["label"]

_HELP = "keys: 1-9 (0 = tenth) answer · s skip · u undo · ? help · q quit"
_HELP_MULTI = (
    "keys: 1-9 (0 = tenth) tick/untick a label · Enter confirm (nothing ticked: none of "
    "these) · s skip · u undo · ? help · q quit"
)
#: the help line when every label is a digit: each digit key answers with that label
_HELP_DIGITS = "keys: 0-9 answer with that label · s skip · u undo · ? help · q quit"
_HELP_DIGITS_MULTI = (
    "keys: 0-9 tick/untick that label · Enter confirm (nothing ticked: none of these) · "
    "s skip · u undo · ? help · q quit"
)
#: the help line when some labels are digits and others are not (keys shown by each label)
_HELP_SHOWN = "keys: the digit shown by a label answers · s skip · u undo · ? help · q quit"
_HELP_SHOWN_MULTI = (
    "keys: the digit shown by a label ticks/unticks it · Enter confirm (nothing ticked: none "
    "of these) · s skip · u undo · ? help · q quit"
)
_SHADES = " .:-=+*#%@"
_KEY_ORDER = "1234567890"
#: the key that reads a label's name (the labels beyond the number keys; any label)
_NAME_KEY = "/"


def _label_keys(labels: list[str]) -> list[str]:
    """The key of each label, as on the web page.

    A label that is a single digit answers on that digit; the other labels take the
    digits left free, in the order 1–9 then 0 ("" once none is left). So ``2`` is
    never the key of a label other than ``2``.

    Examples
    --------
    >>> _label_keys(["neg", "pos"])
    ['1', '2']
    >>> _label_keys(["0", "1", "2"])
    ['0', '1', '2']
    >>> _label_keys([str(i) for i in range(11)])[9:]
    ['9', '']
    >>> _label_keys(["2", "cat", "dog"])
    ['2', '1', '3']
    """
    own = [lab if len(lab) == 1 and lab in _KEY_ORDER else "" for lab in labels]
    taken = {k for k in own if k}
    free = iter([k for k in _KEY_ORDER if k not in taken])
    return [k or next(free, "") for k in own]


def _help_line(labels: list[str], multi: bool) -> str:
    """The key help: digit labels alone, other labels alone, or a mix (keys as shown); with
    more labels than number keys, how to reach the others by name.

    Examples
    --------
    >>> _help_line(["neg", "pos"], False)
    'keys: 1-9 (0 = tenth) answer · s skip · u undo · ? help · q quit'
    >>> _help_line([f"l{i}" for i in range(12)], False).split(" · ")[1]
    "/ then the start of a label's name and Enter answers"
    """
    keys = _label_keys(labels)
    if keys and all(k == lab for k, lab in zip(keys, labels, strict=True)):
        line = _HELP_DIGITS_MULTI if multi else _HELP_DIGITS
    elif any(k == lab for k, lab in zip(keys, labels, strict=True)):
        line = _HELP_SHOWN_MULTI if multi else _HELP_SHOWN
    else:
        line = _HELP_MULTI if multi else _HELP
    if all(keys):
        return line
    by_name = f" · {_NAME_KEY} then the start of a label's name and Enter "
    return line.replace(" · ", by_name + ("ticks/unticks" if multi else "answers") + " · ", 1)


def _by_name(typed: str, labels: list[str]) -> tuple[str | None, str]:
    """The label ``typed`` names: the label itself, or the only one it starts (any case).

    Parameters
    ----------
    typed : str
        What was typed after the name key.
    labels : list of str
        The project's labels.

    Returns
    -------
    (str or None, str)
        The label, or None and the one line to show (empty when nothing was typed).

    Examples
    --------
    >>> labs = ["finding1", "finding10", "finding11", "Other"]
    >>> _by_name("oth", labs), _by_name("finding1", labs), _by_name("FINDING10", labs)
    (('Other', ''), ('finding1', ''), ('finding10', ''))
    >>> _by_name("find", labs)[1]
    "'find' starts 3 labels: finding1, finding10, finding11; type more of the name."
    >>> _by_name("x", labs)[1]
    "No label starts with 'x'; the labels are finding1, finding10, finding11, Other."
    """
    text = typed.strip()
    if not text:
        return None, ""
    if text in labels:
        return text, ""
    folded = text.casefold()
    same = [lab for lab in labels if lab.casefold() == folded]
    hits = same or [lab for lab in labels if lab.casefold().startswith(folded)]
    if len(hits) == 1:
        return hits[0], ""
    if hits:
        return (
            None,
            f"{text!r} starts {len(hits)} labels: {', '.join(hits)}; type more of the name.",
        )
    return None, f"No label starts with {text!r}; the labels are {', '.join(labels)}."


def _read_name() -> str:
    """The start of a label's name, typed after the name key and ended by Enter (Ctrl-C or
    an empty line: nothing)."""
    try:
        return str(click.prompt(_NAME_KEY, prompt_suffix="", default="", show_default=False))
    except click.Abort:
        return ""


def _image_art(data: bytes, width: int = 24) -> str:
    """A small character rendering of an image (dark = dense)."""
    import numpy as np
    from PIL import Image

    from activelab.app.ingest import as_shown

    with Image.open(io.BytesIO(data)) as im:
        shown = as_shown(im)  # upright, transparent pixels on white: as the page shows it
        h = max(1, round(shown.height * width / shown.width / 2))
        grey = np.asarray(shown.convert("L").resize((width, h)), dtype=float) / 255.0
    idx = np.clip(((1.0 - grey) * (len(_SHADES) - 1)).round().astype(int), 0, len(_SHADES) - 1)
    chars = np.asarray(list(_SHADES))[idx]
    return "\n".join("".join(row) for row in chars)


def _show(console: Any, svc: Any, item: Any, keyed: list[tuple[str, str]]) -> None:
    """Show an item, the model's guess and the labels' keys (``keyed``: key and label of
    each label; a label without a number key is shown with the name key)."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from activelab.app.ingest import shown_fields

    body: Any
    if item.kind == "text":
        body = Text(item.content.get("text", ""))  # plain text: never parsed as markup
    elif item.kind == "image":
        data, _ = svc.image(item.id)
        body = Text(_image_art(data) + "\n" + str(item.content.get("filename", "")))
    else:
        body = Table(show_header=False, box=None)
        for k, v in shown_fields(item.kind, item.content).items():
            body.add_row(Text(k, style="dim"), Text(v))
    title = Text(f"item {item.external_id}")
    console.print(Panel(body, title=title, subtitle=Text(item.strategy or "")))
    if item.guess is not None:
        console.print(Text(f"model's guess: {item.guess} ({item.confidence:.0%} confident)"))
    elif item.guess_labels is not None:
        probs = item.probabilities or {}
        guessed = ", ".join(f"{lab} ({probs[lab]:.0%})" for lab in item.guess_labels)
        if not guessed and probs:  # as the page says it: the label that came closest
            top = max(probs, key=lambda lab: probs[lab])
            guessed = f"none of these (most likely {top}, {probs.get(top, 0.0):.0%})"
        console.print(Text(f"model's guess: {guessed or 'none of these'}"))
    shown = "  ".join(f"[{k or _NAME_KEY}] {lab}" for k, lab in keyed)
    console.print(Text(shown, style="bold"))


def _show_selection(console: Any, keyed: list[tuple[str, str]], ticked: set[str]) -> None:
    """Show which labels of a multi-label answer are ticked (``keyed`` as for :func:`_show`)."""
    from rich.text import Text

    marks = "  ".join(
        f"[{'x' if lab in ticked else ' '}] {k or _NAME_KEY} {lab}" for k, lab in keyed
    )
    console.print(Text(marks + "   (Enter confirms)"))


def _show_progress(console: Any, svc: Any, ann: Any) -> None:
    from rich.text import Text

    p = svc.progress(ann)
    acc = (
        f"{p.quality_metric} {p.accuracy:.0%} ({p.accuracy_low:.0%}–{p.accuracy_high:.0%})"
        if p.accuracy is not None
        else f"{p.quality_metric} not yet known"
    )
    pays = {None: "not yet known", True: "yes", False: "hardly"}[p.still_pays]
    console.print(
        Text(
            f"{p.labelled}/{p.n_items} labelled ({p.mine} by you) · {p.remaining} in the queue · "
            f"{acc} · more labels pay: {pays}",
            style="dim",
        )
    )


def _require_terminal(project: Path) -> None:
    """Stop with one line when no terminal can be read key by key (piped, in a job)."""
    if sys.stdin is not sys.__stdin__ or sys.stdin is None:  # replaced, e.g. by a test runner
        return
    if sys.stdin.isatty():
        return
    try:  # click reads keys from the controlling terminal when stdin is not one
        with open("/dev/tty"):
            return
    except OSError:
        pass
    raise click.ClickException(
        "activelab label reads one key per answer and needs an interactive terminal "
        f"(none here); run it in a terminal, or label in the browser: activelab serve {project}"
    )


@click.command()
@click.argument("project", type=click.Path(path_type=Path))
@click.option(
    "--as",
    "--annotator",
    "name",
    default=None,
    help="Annotator name  [default: your user name; created if new, without a web token].",
)
def label(project: Path, name: str | None) -> None:
    """Label PROJECT in the terminal: one key per answer, the model retrains in the background.

    In a multi-label project the number keys tick and untick labels and Enter
    confirms the ticked set (nothing ticked: none of the labels apply). With more
    labels than number keys, / then the start of a label's name and Enter answers
    with (or ticks) that label; any label can be reached so.
    """
    from rich.console import Console

    from activelab.app.project import ProjectError, open_project
    from activelab.app.service import LabellingService
    from activelab.app.store import StoreError, decode_label_set
    from activelab.cli.annotator import refuse_reserved_name

    _require_terminal(project)
    name = (name or getpass.getuser()).strip()  # the store keeps names without padding
    refuse_reserved_name(name, "label as another name (--as)")
    console = Console(highlight=False)
    try:
        store = open_project(project)
    except ProjectError as exc:
        raise click.ClickException(str(exc)) from exc
    ann = store.annotator_by_name(name)
    if ann is None:
        try:
            ann, _ = store.add_annotator(name, with_token=False)
        except StoreError as exc:
            store.close()
            raise click.ClickException(f"--as {name[:40]!r}: {exc}") from None
    elif ann.revoked:
        store.close()
        raise click.ClickException(
            f"Annotator {name!r} is revoked; label --as another name, or let them back with "
            f"activelab annotator token {project} {name!r}."
        )
    svc = LabellingService(store)
    labels = svc.labels
    multi = svc.multilabel
    # the labels are fixed while a session runs (activelab add --labels refuses meanwhile);
    # those beyond the number keys ("" here) are reached by name
    keyed = list(zip(_label_keys(labels), labels, strict=True))
    by_key = {k: lab for k, lab in keyed if k}
    help_ = _help_line(labels, multi)
    svc.start()
    console.print(f"Labelling [bold]{store.settings.get('name')}[/bold] as {name}. ", end="")
    console.print(help_, markup=False)
    item = None
    ticked: set[str] = set()
    try:
        while True:
            if item is None:
                item = svc.next_item(ann)
                if item is None:
                    console.print("Nothing left to label. Thank you!")
                    break
                _show(console, svc, item, keyed)
                ticked = set()
            key = click.getchar()
            try:
                if key in ("q", "\x03", "\x04"):
                    svc.release(ann, item.id)
                    break
                if (len(key) == 1 and key in "0123456789") or key == _NAME_KEY:
                    if key == _NAME_KEY:
                        chosen_label, problem = _by_name(_read_name(), labels)
                    else:
                        chosen_label = by_key.get(key)
                        problem = f"No label on key {key}. {help_}"
                    if chosen_label is None:
                        if problem:
                            console.print(problem, markup=False)
                        continue
                    if multi:
                        ticked ^= {chosen_label}
                        _show_selection(console, keyed, ticked)
                        continue
                    svc.answer(ann, item.id, chosen_label)
                    console.print(f"saved: {chosen_label}", markup=False)
                elif key in ("\r", "\n") and multi:
                    chosen = [lab for lab in labels if lab in ticked]
                    svc.answer(ann, item.id, chosen)
                    console.print(f"saved: {', '.join(chosen) or 'none of these'}", markup=False)
                elif key == "s":
                    svc.skip(ann, item.id)
                    console.print("skipped")
                elif key == "u":
                    ev, back = svc.undo(ann)
                    console.print("undone")
                    _show_progress(console, svc, ann)
                    item = back
                    _show(console, svc, item, keyed)
                    ticked = set()
                    if multi and ev.undoes is not None:
                        undone = store.event(ev.undoes)
                        if undone.kind == "label":  # the taken-back set comes back ticked
                            ticked = set(decode_label_set(undone.label))
                            _show_selection(console, keyed, ticked)
                    continue
                elif key == "?":
                    console.print(help_, markup=False)
                    continue
                else:
                    continue
            except StoreError as exc:
                console.print(str(exc))
                continue
            _show_progress(console, svc, ann)
            item = None
    finally:
        svc.stop()
        store.close()
