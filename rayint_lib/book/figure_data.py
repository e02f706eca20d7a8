"""The data behind a figure, read back from what matplotlib drew (issue 21).

:func:`table` turns a drawn :class:`matplotlib.figure.Figure` into one tidy table with a row
per plotted point, bar, band point or image cell: ``figure``, ``panel`` (the axes' title, or
``panel N``), ``series`` (the artist's legend label, or ``line 3``), ``kind``, then the
coordinates in columns named after the panel's axis labels (with their units, as the figure
shows them). Bands (``fill_between``) give ``LABEL (low)`` and ``LABEL (high)``; vertical
error bars the same; images and meshes a ``value`` per cell; categorical axes also the tick
label (``LABEL (tick)``). Reference lines drawn in axes coordinates (``axhline``) are given
in data coordinates over the visible range. Colour bars and arrows are not data and are
skipped.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import (
    Collection,
    FillBetweenPolyCollection,
    LineCollection,
    PathCollection,
    QuadMesh,
)
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.image import AxesImage
from matplotlib.patches import FancyArrowPatch, Rectangle

FIXED = ("figure", "panel", "series", "kind")


def _to_data(ax, transform, xy) -> np.ndarray:
    """``xy`` given in ``transform``'s coordinates, in the data coordinates of ``ax``."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if transform == ax.transData:
        return xy
    return ax.transData.inverted().transform(transform.transform(xy))


def _label(artist, kind: str, counts: dict) -> str:
    """The artist's legend label (or its container's, for error bars), else ``kind N``."""
    label = counts.get(("owner", id(artist))) or artist.get_label()
    if label and not str(label).startswith("_"):
        return str(label)
    counts[kind] = counts.get(kind, 0) + 1
    return f"{kind} {counts[kind]}"


def _label_of(ax, which: str) -> str:
    """The axis label of ``ax``, or of an axes sharing that axis (a shared axis is often
    labelled once)."""
    get = f"get_{which}label"
    shared = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    for other in [ax, *shared.get_siblings(ax)]:
        if getattr(other, get)().strip():
            return getattr(other, get)().strip()
    return which


def _names(ax) -> tuple[str, str]:
    x, y = _label_of(ax, "x"), _label_of(ax, "y")
    return x, (y if y != x else f"{y} (y)")


def _ticks(axis) -> dict:
    """Position -> label of an axis whose tick labels are words (categories), else ``{}``."""
    locs = axis.get_majorticklocs()
    labels = axis.get_major_formatter().format_ticks(locs)
    words = {float(p): str(t) for p, t in zip(locs, labels) if str(t) and not _numeric(str(t))}
    return words if len(words) == len(locs) and words else {}


def _numeric(text: str) -> bool:
    clean = text.replace("\u2212", "-").replace("$", "").replace("\\mathdefault{", "")
    clean = clean.replace("{", "").replace("}", "").replace("^", "e").replace("10e", "1e")
    try:
        float(clean.replace("%", ""))
        return True
    except ValueError:
        return False


def _rows(series, kind, columns: dict) -> pd.DataFrame:
    df = pd.DataFrame({k: np.asarray(v).ravel() for k, v in columns.items()})
    df.insert(0, "kind", kind)
    df.insert(0, "series", series)
    return df


def _line_rows(ax, line, xn, yn, counts):
    xy = _to_data(ax, line.get_transform(), line.get_xydata())
    return _rows(_label(line, "line", counts), "line", {xn: xy[:, 0], yn: xy[:, 1]})


def _band_rows(ax, coll, xn, yn, counts):
    """``fill_between``: the two bounding curves at every node, as (low, high)."""
    out = []
    swap = coll.t_direction == "y"
    tn, fn = (yn, xn) if swap else (xn, yn)
    for path in coll.get_paths():
        pts = _to_data(ax, coll.get_transform(), path.vertices)[:, ::-1 if swap else 1]
        n = (len(pts) - 2) // 2
        t, f1, f2 = pts[1:n + 1, 0], pts[1:n + 1, 1], pts[n + 2:2 * n + 2, 1][::-1]
        if n < 1 or not np.array_equal(t, pts[n + 2:2 * n + 2, 0][::-1]):
            continue
        out.append(_rows(_label(coll, "band", counts), "band",
                         {tn: t, f"{fn} (low)": np.minimum(f1, f2),
                          f"{fn} (high)": np.maximum(f1, f2)}))
    return out


def _segment_rows(ax, coll, xn, yn, counts):
    """Error bars (vertical or horizontal segments) as (low, high); other segments as
    their vertices with a segment number."""
    segs = [_to_data(ax, coll.get_transform(), s) for s in coll.get_segments() if len(s)]
    if not segs:
        return []
    name = _label(coll, "segments", counts)
    if all(len(s) == 2 for s in segs):
        s = np.stack(segs)
        for along, across in ((0, 1), (1, 0)):
            if np.array_equal(s[:, 0, along], s[:, 1, along]):
                a, b = (xn, yn) if along == 0 else (yn, xn)
                return [_rows(name, "error bar", {a: s[:, 0, along],
                                                  f"{b} (low)": s[:, :, across].min(axis=1),
                                                  f"{b} (high)": s[:, :, across].max(axis=1)})]
    return [_rows(name, "segment", {"segment": np.repeat(np.arange(len(segs)),
                                                         [len(s) for s in segs]),
                                    xn: np.concatenate(segs)[:, 0],
                                    yn: np.concatenate(segs)[:, 1]})]


def _scatter_rows(ax, coll, xn, yn, counts):
    xy = _to_data(ax, coll.get_offset_transform(), coll.get_offsets())
    cols = {xn: xy[:, 0], yn: xy[:, 1]}
    values = coll.get_array()
    if values is not None and np.size(values) == len(xy):
        cols["value"] = np.ma.filled(np.ma.asarray(values, dtype=float), np.nan)
    return [_rows(_label(coll, "points", counts), "point", cols)]


def _mesh_rows(ax, mesh, xn, yn, counts):
    corners = mesh.get_coordinates()
    centres = (corners[:-1, :-1] + corners[1:, 1:] + corners[:-1, 1:] + corners[1:, :-1]) / 4
    centres = _to_data(ax, mesh.get_transform(), centres.reshape(-1, 2))
    values = np.ma.filled(np.ma.asarray(mesh.get_array(), dtype=float), np.nan).ravel()
    if values.size != len(centres):
        return []
    return [_rows(_label(mesh, "mesh", counts), "cell",
                  {xn: centres[:, 0], yn: centres[:, 1], "value": values})]


def _image_rows(ax, im, xn, yn, counts):
    values = np.ma.filled(np.ma.asarray(im.get_array(), dtype=float), np.nan)
    if values.ndim != 2:  # an RGB picture, not data
        return []
    left, right, bottom, top = im.get_extent()
    rows, cols = values.shape
    x = left + (np.arange(cols) + 0.5) * (right - left) / cols
    first, last = (top, bottom) if im.origin == "upper" else (bottom, top)
    y = first + (np.arange(rows) + 0.5) * (last - first) / rows
    xx, yy = np.meshgrid(x, y)
    return [_rows(_label(im, "image", counts), "cell", {xn: xx, yn: yy, "value": values})]


def _bar_rows(container, xn, yn, counts):
    rects = [r for r in container.patches if isinstance(r, Rectangle)]
    if not rects:
        return []
    name = _label(container, "bars", counts)
    if container.orientation == "horizontal":
        return [_rows(name, "bar", {yn: [r.get_y() + r.get_height() / 2 for r in rects],
                                    xn: [r.get_x() + r.get_width() for r in rects]})]
    return [_rows(name, "bar", {xn: [r.get_x() + r.get_width() / 2 for r in rects],
                                yn: [r.get_y() + r.get_height() for r in rects]})]


def _patch_rows(ax, patch, xn, yn, counts):
    xy = _to_data(ax, patch.get_transform(), patch.get_path().vertices)
    return [_rows(_label(patch, "patch", counts), "outline", {xn: xy[:, 0], yn: xy[:, 1]})]


def panel_table(ax) -> pd.DataFrame:
    """The plotted data of one axes (without the ``figure`` and ``panel`` columns)."""
    xn, yn = _names(ax)
    counts: dict = {("owner", id(a)): c.get_label() for c in ax.containers
                    if isinstance(c, ErrorbarContainer) for a in c.get_children()}
    parts = [_line_rows(ax, line, xn, yn, counts) for line in ax.get_lines()]
    in_bars = set()
    for c in ax.containers:
        if isinstance(c, BarContainer):
            parts += _bar_rows(c, xn, yn, counts)
            in_bars.update(map(id, c.patches))
    for p in ax.patches:  # arrows (streamplot heads, annotations) are decoration, not data
        if id(p) not in in_bars and not isinstance(p, FancyArrowPatch):
            parts += _patch_rows(ax, p, xn, yn, counts)
    for coll in ax.collections:
        if isinstance(coll, FillBetweenPolyCollection):
            parts += _band_rows(ax, coll, xn, yn, counts)
        elif isinstance(coll, LineCollection):
            parts += _segment_rows(ax, coll, xn, yn, counts)
        elif isinstance(coll, QuadMesh):
            parts += _mesh_rows(ax, coll, xn, yn, counts)
        elif isinstance(coll, PathCollection) and len(coll.get_offsets()):
            parts += _scatter_rows(ax, coll, xn, yn, counts)
        elif isinstance(coll, Collection):
            for path in coll.get_paths():  # contours, polygons: their outlines
                xy = _to_data(ax, coll.get_transform(), path.vertices)
                parts.append(_rows(_label(coll, "outline", counts), "outline",
                                   {xn: xy[:, 0], yn: xy[:, 1]}))
    parts += [r for im in ax.images if isinstance(im, AxesImage)
              for r in _image_rows(ax, im, xn, yn, counts)]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["series", "kind"])
    df = pd.concat(parts, ignore_index=True)
    for name, axis in ((xn, ax.xaxis), (yn, ax.yaxis)):
        words = _ticks(axis)
        if words and name in df:
            df[f"{name} (tick)"] = df[name].map(lambda v, w=words: w.get(float(v), ""))
    return df


def table(fig, name: str) -> pd.DataFrame:
    """Every panel's plotted data of ``fig``, one row per point (see the module doc)."""
    parts = []
    for i, ax in enumerate(a for a in fig.axes if not hasattr(a, "_colorbar")):
        df = panel_table(ax)
        if len(df):
            df.insert(0, "panel", ax.get_title().strip() or f"panel {i + 1}")
            parts.append(df)
    if not parts:
        return pd.DataFrame(columns=["figure", "panel", "series", "kind"])
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "figure", name)
    return out


def summary(df: pd.DataFrame) -> str:
    """``"3 panels, 12 series, 4800 rows"`` (what the page says under the figure)."""
    n_series = len(df[["panel", "series"]].drop_duplicates()) if len(df) else 0
    n_panels = df["panel"].nunique() if len(df) else 0
    return (f"{n_panels} panel{'s' * (n_panels != 1)}, {n_series} series, "
            f"{len(df)} row{'s' * (len(df) != 1)}")
