"""TensorBoard event files (``events.out.tfevents.*``), read without TensorFlow.

The file is a sequence of records (``uint64`` length, masked CRC-32C of the length, the
bytes of one ``Event`` protocol buffer, masked CRC-32C of them); an ``Event`` has
``wall_time`` (field 1), ``step`` (2) and a ``Summary`` (5) of ``Value``s with a ``tag`` (1)
and either ``simple_value`` (2, as ``add_scalar`` of PyTorch and tensorboardX writes it) or
a scalar ``tensor`` (8: ``float_val``, ``double_val`` or 4 or 8 bytes of
``tensor_content``), as TensorFlow 2 writes it. Only these fields are decoded (the protocol
buffer wire format is read directly: no dependency).

A record cut short at the end of the file (a run still writing) is read up to the cut with
a warning; a corrupt record anywhere else is an error naming the file and its byte offset.
A file, or a folder of event files, is one run; a folder of such folders is several runs.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from .table import LogError, Table, check_file, names, quote

TAGS = ("charts/episodic_return", "rollout/ep_rew_mean", "episode_reward",
        "env_runners/episode_return_mean", "ray/tune/episode_reward_mean", "eval/mean_reward",
        "train/episode_return", "Episode_Reward", "episode_return", "return")


def is_event_file(path: Path) -> bool:
    return "tfevents" in path.name


def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        table.append(c)
    return table


_CRC = _crc_table()


def masked_crc(data: bytes) -> int:
    """TFRecord's masked CRC-32C of ``data``."""
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC[(c ^ b) & 0xFF] ^ (c >> 8)
    c ^= 0xFFFFFFFF
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(buf, i):
    out = shift = 0
    while True:
        b = buf[i]
        i += 1
        out |= (b & 0x7F) << shift
        if b < 0x80:
            return out, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def fields(buf):
    """``(field number, wire type, value)`` of a protocol buffer message."""
    i, n = 0, len(buf)
    while i < n:
        key, i = _varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(buf, i)
        elif wire == 1:
            v, i = buf[i:i + 8], i + 8
        elif wire == 2:
            size, i = _varint(buf, i)
            v, i = buf[i:i + size], i + size
        elif wire == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire}")
        if i > n:
            raise ValueError("field runs past the message")
        yield num, wire, v


def _tensor_scalar(buf):
    dtype, content, out = 1, None, None
    for num, wire, v in fields(buf):
        if num == 1 and wire == 0:
            dtype = v
        elif num == 4 and wire == 2:
            content = bytes(v)
        elif num == 5:                       # float_val (packed or not)
            out = struct.unpack("<f", bytes(v[:4]))[0]
        elif num == 6:                       # double_val
            out = struct.unpack("<d", bytes(v[:8]))[0]
    if out is None and content is not None:
        if dtype == 1 and len(content) == 4:
            out = struct.unpack("<f", content)[0]
        elif dtype == 2 and len(content) == 8:
            out = struct.unpack("<d", content)[0]
    return out


def _scalars(event):
    """``(step, wall_time, [(tag, value)])`` of one ``Event``."""
    step, wall, out = 0, 0.0, []
    for num, wire, v in fields(event):
        if num == 1 and wire == 1:
            wall = struct.unpack("<d", bytes(v))[0]
        elif num == 2 and wire == 0:
            step = v - (1 << 64) if v >= 1 << 63 else v
        elif num == 5 and wire == 2:
            for n2, w2, val in fields(v):
                if n2 != 1 or w2 != 2:
                    continue
                tag, x = None, None
                for n3, w3, f in fields(val):
                    if n3 == 1 and w3 == 2:
                        tag = bytes(f).decode("utf-8", "replace")
                    elif n3 == 2 and w3 == 5:
                        x = struct.unpack("<f", bytes(f))[0]
                    elif n3 == 8 and w3 == 2:
                        x = _tensor_scalar(f)
                if tag is not None and x is not None:
                    out.append((tag, x))
    return step, wall, out


def records(path: Path, warnings: list):
    """``(byte offset, step, wall_time, [(tag, value)])`` of every record."""
    data = check_file(path).read_bytes()
    pos, n = 0, len(data)
    while pos < n:
        if n - pos < 12:
            warnings.append(f"{path}, byte {pos}: the last record is cut short (a run still "
                            "writing?); read up to it")
            return
        length, crc = struct.unpack("<QI", data[pos:pos + 12])
        if masked_crc(data[pos:pos + 8]) != crc:
            raise LogError(f"{path}, byte {pos}: corrupt record (bad length checksum); not a "
                           "TensorBoard event file, or damaged")
        end = pos + 12 + length
        if end + 4 > n:
            warnings.append(f"{path}, byte {pos}: the last record is cut short (a run still "
                            "writing?); read up to it")
            return
        body = data[pos + 12:end]
        if masked_crc(body) != struct.unpack("<I", data[end:end + 4])[0]:
            raise LogError(f"{path}, byte {pos}: corrupt record (bad data checksum)")
        try:
            step, wall, vals = _scalars(body)
        except (ValueError, IndexError, struct.error):
            raise LogError(f"{path}, byte {pos}: corrupt record (not an Event)") from None
        yield pos, step, wall, vals
        pos = end + 4


def read(files: list, run: str, tag: str | None = None) -> Table:
    """One run from its event files (merged by wall time), the scalar ``tag`` (or the
    first present of :data:`TAGS`)."""
    warnings, got = [], []
    for k, p in enumerate(files):
        for pos, step, wall, vals in records(p, warnings):
            for t, x in vals:
                got.append((t, wall, step, x, pos, k))
    present = sorted({g[0] for g in got})
    chosen = tag if tag is not None else next((t for t in TAGS if t in present), None)
    if chosen is None or chosen not in present:
        what = f"no scalar tag {quote(tag)}" if tag is not None else (
            f"none of the usual return tags ({names(TAGS, 4)})")
        raise LogError(f"{files[0]}: {what}; the tags present are "
                       f"{names(present, 12) or 'none'}; choose one with --tag")
    pts = sorted((g for g in got if g[0] == chosen), key=lambda g: (g[1], g[4]))
    n = len(pts)
    return Table(np.array([g[2] for g in pts], dtype=float),
                  np.array([g[3] for g in pts], dtype=float), np.zeros(n, dtype=np.int64),
                  [run], source=np.array([g[5] for g in pts], dtype=np.int64),
                  record=np.array([g[4] for g in pts], dtype=np.int64),
                  files=[(p, "byte", {"step": "step", "value": chosen}) for p in files],
                  formats=["tfevents"], warnings=warnings)
