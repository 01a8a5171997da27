"""``activelab label``: the labelling loop in the terminal (rich), over the same service."""

from __future__ import annotations

import codecs
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
#: names of the keys that print no character of their own
_KEY_NAMES = {
    "\x1b[A": "up arrow",
    "\x1b[B": "down arrow",
    "\x1b[C": "right arrow",
    "\x1b[D": "left arrow",
    "\x1b": "Esc",
    "\t": "Tab",
    "\x7f": "Backspace",
    "\x08": "Backspace",
}


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


def _help_line(keyed: list[tuple[str, str]], multi: bool) -> str:
    """The key help: digit labels alone, other labels alone, or a mix (keys as shown), and
    ``l`` when some labels have no key (``keyed``: each label's key and the label)."""
    if keyed and all(k == lab for k, lab in keyed):
        line = _HELP_DIGITS_MULTI if multi else _HELP_DIGITS
    elif any(k == lab for k, lab in keyed):
        line = _HELP_SHOWN_MULTI if multi else _HELP_SHOWN
    else:
        line = _HELP_MULTI if multi else _HELP
    if any(not k for k, _ in keyed):  # more labels than digit keys: the rest by name
        line = line.replace(" · s skip", " · l type a label's name · s skip", 1)
    return line


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


def _typed_label(typed: str, labels: list[str]) -> tuple[str | None, str]:
    """The label a typed name means, or ``None`` and why not.

    The name as written, else the same letters in another case, else the one label
    that starts with them (in any case). Labels that differ only in case (``Cat``,
    ``cat``) are told apart by their exact spelling, which the message then asks for.

    Examples
    --------
    >>> _typed_label("topic12", ["topic1", "topic12"])
    ('topic12', '')
    >>> _typed_label("OTH", ["other", "outer"])
    ('other', '')
    >>> _typed_label("o", ["other", "outer"])[1]
    "'o' is the start of several labels: other, outer; type more of the name"
    >>> _typed_label("CAT", ["Cat", "cat"])[1]
    "'CAT' is several labels that differ only in case: Cat, cat; type one exactly as written"
    """
    typed = typed.strip()
    if not typed:  # Enter alone: nothing chosen
        return None, ""
    if typed in labels:
        return typed, ""
    folded = typed.casefold()
    same = [lab for lab in labels if lab.casefold() == folded]
    starts = same or [lab for lab in labels if lab.casefold().startswith(folded)]
    if len(starts) == 1:
        return starts[0], ""
    if not starts:
        return None, f"No label {typed!r}; the labels: {', '.join(labels)}"
    if same:  # typing more cannot tell them apart: only the exact spelling can
        return None, (
            f"{typed!r} is several labels that differ only in case: {', '.join(same)}; "
            "type one exactly as written"
        )
    return None, (
        f"{typed!r} is the start of several labels: {', '.join(starts[:12])}"
        f"{', ...' if len(starts) > 12 else ''}; type more of the name"
    )


def _keys_line(keyed: list[tuple[str, str]]) -> str:
    """The labels with their keys; labels without one (past the tenth) follow, for ``l``."""
    line = "  ".join(f"[{k}] {lab}" for k, lab in keyed if k)
    rest = [lab for k, lab in keyed if not k]
    if rest:
        line += "\n[l] then a name: " + ", ".join(rest)
    return line


def _show(console: Any, svc: Any, item: Any, keyed: list[tuple[str, str]]) -> None:
    """Show an item, the model's guess and the labels' keys (``keyed``: each label and its
    key, ``""`` for the labels past the tenth)."""
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
    console.print(Text(_keys_line(keyed), style="bold"))


def _show_selection(console: Any, keyed: list[tuple[str, str]], ticked: set[str]) -> None:
    """Show which labels of a multi-label answer are ticked (``keyed`` as for :func:`_show`)."""
    from rich.text import Text

    marks = "  ".join(
        f"[{'x' if lab in ticked else ' '}] {k + ' ' if k else ''}{lab}" for k, lab in keyed
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


def _read_key() -> str:
    """One key press; Ctrl-C and Ctrl-D (which click raises as exceptions) read as ``q``."""
    try:
        return click.getchar()
    except (KeyboardInterrupt, EOFError):
        return "q"


def _key_name(key: str) -> str:
    """A key as the user knows it: the character typed, or a name for the rest.

    Examples
    --------
    >>> _key_name("x")
    "'x'"
    >>> _key_name("\\x1b[A")
    'up arrow'
    >>> _key_name("\\x1b")
    'Esc'
    """
    if key in _KEY_NAMES:
        return _KEY_NAMES[key]
    if len(key) == 1 and key.isprintable():
        return repr(key)
    return "that key"


#: the ASCII stand-ins of the punctuation this command prints, for a terminal without it
_PLAIN = {"\u00b7": "-", "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u2019": "'"}


def _plain(err: UnicodeError) -> tuple[str, int]:
    """Write what the terminal's encoding lacks as ASCII: our punctuation as its stand-in,
    any other character (an emoji, a script the locale lacks) as ``?``."""
    if not isinstance(err, UnicodeEncodeError):
        raise err
    bad = err.object[err.start : err.end]
    return "".join(_PLAIN.get(ch, "?") for ch in bad), err.end


def _tolerant_stdout() -> None:
    """On a terminal whose locale is not UTF-8 (latin-1, ASCII), print what it cannot show
    in plain characters instead of stopping with a UnicodeEncodeError."""
    out = sys.stdout
    encoding = (getattr(out, "encoding", None) or "utf-8").lower().replace("-", "")
    if isinstance(out, io.TextIOWrapper) and not encoding.startswith("utf"):
        codecs.register_error("activelab.plain", _plain)  # only where it is used
        out.reconfigure(errors="activelab.plain")


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
    confirms the ticked set (nothing ticked: none of the labels apply). Labels past
    the tenth have no key: press l, then type the label's name or its first letters.
    """
    from rich.console import Console
    from rich.text import Text

    from activelab.app.project import ProjectError, open_project, project_name
    from activelab.app.quality import short_of_annotators
    from activelab.app.service import LabellingService
    from activelab.app.store import ConflictError, StoreError, decode_label_set
    from activelab.cli.annotator import refuse_reserved_name

    _require_terminal(project)
    _tolerant_stdout()
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
    # the labels are fixed while a session runs (activelab add --labels refuses meanwhile)
    keyed = list(zip(_label_keys(labels), labels, strict=True))
    by_key = {k: lab for k, lab in keyed if k}
    help_ = _help_line(keyed, multi)
    svc.start()
    # the project's and the annotator's names are text, never markup ('[/x]' would stop here)
    said = Text.assemble(
        "Labelling ", (project_name(store.settings, project), "bold"), f" as {name}. "
    )
    console.print(said, end="")
    console.print(help_, markup=False)
    item = None
    ticked: set[str] = set()
    try:
        while True:
            if item is None:
                item = svc.next_item(ann)
                if item is None:
                    console.print("Nothing left to label. Thank you!")
                    short = short_of_annotators(store, str(project))
                    if short:  # why others' queue counts stay above 0
                        console.print(short["text"], markup=False, soft_wrap=True)
                    break
                _show(console, svc, item, keyed)
                ticked = set()
            key = _read_key()
            if len(key) == 1 and key in "QSU":  # Caps Lock or Shift on: as on the page
                key = key.lower()
            try:
                if key in ("q", "\x03", "\x04"):
                    svc.release_held(ann)
                    break
                if (len(key) == 1 and key in "0123456789") or (
                    key == "l" and len(by_key) < len(labels)
                ):
                    if key == "l":
                        try:
                            typed = click.prompt("label", default="", show_default=False)
                        except click.Abort:  # Ctrl-C or Ctrl-D while typing: quit, as q
                            svc.release_held(ann)
                            break
                        chosen_label, why = _typed_label(typed, labels)
                        if chosen_label is None:
                            console.print(why or "Not answered.", markup=False)
                            continue
                    else:
                        chosen_label = by_key.get(key)
                    if chosen_label is None:
                        console.print(f"No label on key {key}. {help_}", markup=False)
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
                    if key not in ("\r", "\n", " "):  # a stray Enter or space needs no word
                        console.print(f"Key {_key_name(key)} does nothing. {help_}", markup=False)
                    continue
            except ConflictError:
                # the store's message names the item by its row number and the web API's next
                # step; the annotator knows the item by the id shown above it
                console.print(
                    f"Not saved for item {item.external_id}: it was already answered or skipped "
                    "(in another window) or taken over after its reservation ran out. Here is "
                    "your next item.",
                    markup=False,
                )
                item = None
                continue
            except StoreError as exc:
                console.print(str(exc), markup=False)
                continue
            _show_progress(console, svc, ann)
            item = None
    except KeyboardInterrupt:
        # Ctrl-C while an answer was being saved: what was saved stays, the item on
        # screen goes back to the queue for the others at once
        svc.release_held(ann)
        console.print("Stopped; your saved answers are kept.")
    finally:
        svc.stop()
        store.close()
