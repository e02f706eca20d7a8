"""Training logs, as the common RL libraries write them, read into one curves table
(:class:`~rayint_lib.logs.table.Table`): one reader module per format, so a new format is
one new module and one line in :data:`READERS`.

Formats (``auto``: chosen from the file name and content):

==================  =========================================================  ===========
format              files                                                      runs
==================  =========================================================  ===========
``csv``             plain CSV (``step,value[,run][,component]``) or            a file, or
                    TensorBoard's CSV download (``Wall time,Step,Value``)      its runs
``monitor``         Stable-Baselines3 ``*.monitor.csv``                        a folder
``sb3_progress``    SB3 ``progress.csv``                                       a file
``rllib_progress``  RLlib / Tune ``progress.csv``                              a file
``tfevents``        ``events.out.tfevents.*`` (``--tag`` picks the scalar)     a folder
``wandb_chart``     W&B chart export (``Step``, ``<run> - <metric>``)          a column
``wandb_history``   W&B run-history export (``_step``, metrics)                a file
==================  =========================================================  ===========

A folder of files of one format is read as that format says (a folder of Monitor files or
event files is ONE run; a folder of CSV or progress files is one run per file); a folder of
such folders is one entry per folder. A folder that mixes formats is refused, as is a W&B
runs-table export (no steps).
"""
from __future__ import annotations

from pathlib import Path

from . import monitor, plain_csv, progress, tfevents, wandb
from .table import LogError, Table, check_file, concat, quote

FORMATS = ("auto", "csv", "monitor", "sb3_progress", "rllib_progress", "tfevents",
           "wandb_chart", "wandb_history")
ONE_RUN_PER_FOLDER = ("monitor", "tfevents")

__all__ = ["FORMATS", "LogError", "Table", "file_format", "read"]


def file_format(path: Path) -> str:
    """The format of one file, from its name and its first line."""
    if tfevents.is_event_file(path):
        return "tfevents"
    check_file(path)
    with open(path, "rb") as f:
        first = f.read(2).decode("latin-1")
    if monitor.is_monitor(path, first):
        return "monitor"
    head = plain_csv.header(path)
    kind = progress.kind(head) or wandb.kind(head)
    if kind == "wandb_runs":
        wandb.refuse_runs_table(path)
    return kind or "csv"


def _read_files(files, fmt, run, tag, cols, folder):
    if fmt == "monitor":
        return [monitor.read(files, run)]
    if fmt == "tfevents":
        return [tfevents.read(files, run, tag)]
    out = []
    for f in files:
        if fmt == "csv":
            out.append(plain_csv.read(f, cols, folder=folder))
        elif fmt in progress.FORMATS:
            out.append(progress.read(f, fmt, cols))
        elif fmt == "wandb_chart":
            out.append(wandb.read_chart(f))
        else:
            out.append(wandb.read_history(f, cols.get("value")))
    return out


def _is_log(p: Path) -> bool:
    return p.is_file() and (tfevents.is_event_file(p) or p.suffix.lower() == ".csv")


def _read_path(path: Path, fmt, tag, cols, depth=0):
    if not path.exists() and not path.is_symlink():
        raise LogError(f"cannot read {quote(path, 200)}: no such file or folder")
    if not path.is_dir():
        kind = fmt if fmt != "auto" else file_format(path)
        name = path.absolute().parent.name if kind in ONE_RUN_PER_FOLDER else path.stem
        return _read_files([path], kind, name, tag, cols, folder=False)
    entries = sorted(path.iterdir())
    files = [p for p in entries if _is_log(p)]
    if files:
        kinds = {p: (fmt if fmt != "auto" else file_format(p)) for p in files}
        if len(set(kinds.values())) > 1:
            (a, ka), (b, kb) = [next((p, k) for p, k in kinds.items() if k == want)
                                for want in sorted(set(kinds.values()))[:2]]
            raise LogError(f"{path}: a folder that mixes formats ({a.name}: {ka}, {b.name}: "
                           f"{kb}); give the files of one format, or one folder per run")
        return _read_files(files, next(iter(kinds.values())), path.name, tag, cols,
                           folder=True)
    subdirs = [p for p in entries if p.is_dir()] if depth == 0 else []
    out = [t for d in subdirs if any(_is_log(p) for p in d.iterdir())
           for t in _read_path(d, fmt, tag, cols, depth + 1)]
    if not out:
        raise LogError(f"{path}: a folder with no logs (no .csv or event files in it or in "
                       "its folders)")
    return out


def read(paths, fmt: str = "auto", tag: str | None = None, cols: dict | None = None) -> Table:
    """Every run in ``paths`` (files or folders, see the module doc) as one table."""
    if fmt not in FORMATS:
        raise LogError(f"format {quote(fmt)} is not one of {', '.join(FORMATS)}")
    cols = {k: v for k, v in (cols or {}).items() if v is not None}
    return concat([t for p in paths for t in _read_path(Path(p), fmt, tag, cols)])
