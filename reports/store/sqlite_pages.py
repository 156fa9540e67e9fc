"""A bounded structural check of a SQLite file: the pages down both edges of every B-tree.

``PRAGMA quick_check`` reads every page (1.9 s for a year of a station's runs, at every
start); SQLite itself does not validate a page it reads (a scrambled cell pointer array
reads as rows of zeros and NULLs). This reads, from the file, each tree's root and the
pages down its leftmost and rightmost paths — the right edge is where a run's rows are
inserted — and checks each against the file format (https://www.sqlite.org/fileformat2.html,
§1.3 the database header, §1.6 B-tree pages): the page type, the cell count and content
area within the page, every cell pointer inside the content area, each cell's local
payload inside the page, child pages inside the file. About 4 pages a tree.

The caller holds a read transaction begun while the write-ahead log was empty, so the
main file is the database and no checkpoint can write to it while this reads.
"""

from __future__ import annotations

import struct
from pathlib import Path

MAGIC = b"SQLite format 3\x00"
_INTERIOR_INDEX, _INTERIOR_TABLE, _LEAF_INDEX, _LEAF_TABLE = 2, 5, 10, 13
_MAX_DEPTH = 20   # a B-tree of 4 KiB pages this deep holds more rows than any disk


def _varint(buf: bytes, at: int) -> tuple[int, int]:
    """SQLite's big-endian varint at ``at``: (value, bytes used), §1.6."""
    value = 0
    for i in range(8):
        byte = buf[at + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, i + 1
    return (value << 8) | buf[at + 8], 9


def _varint_size(buf: bytes, at: int) -> int:
    """Bytes of the varint at ``at`` (its value not needed: a rowid)."""
    for i in range(8):
        if buf[at + i] < 0x80:
            return i + 1
    return 9


def _local_payload(payload: int, usable: int, leaf_table: bool) -> int:
    """Bytes of a cell's payload kept on its page (the rest overflows), §1.6."""
    most = usable - 35 if leaf_table else (usable - 12) * 64 // 255 - 23
    if payload <= most:
        return payload
    least = (usable - 12) * 32 // 255 - 23
    k = least + (payload - least) % (usable - 4)
    return (k if k <= most else least) + 4   # + the first overflow page's number


class _File:
    def __init__(self, path: Path) -> None:
        self.data = path.open("rb")
        head = self.data.read(100)
        if len(head) < 100 or head[:16] != MAGIC:
            raise ValueError("the file header is not SQLite's")
        size = int.from_bytes(head[16:18], "big")
        self.page_size = 65536 if size == 1 else size
        if self.page_size < 512 or self.page_size & (self.page_size - 1):
            raise ValueError(f"the file header's page size {self.page_size} is not a power of two")
        self.usable = self.page_size - head[20]
        self.pages = path.stat().st_size // self.page_size

    def page(self, n: int) -> bytes:
        self.data.seek((n - 1) * self.page_size)
        return self.data.read(self.page_size)


def _cells(f: _File, n: int, buf: bytes) -> tuple[list[int], int | None]:
    """Check page ``n`` (ValueError naming what is wrong); its cell pointers, and the
    right-most child of an interior page."""
    at = 100 if n == 1 else 0
    kind = buf[at]
    if kind not in (_INTERIOR_INDEX, _INTERIOR_TABLE, _LEAF_INDEX, _LEAF_TABLE):
        raise ValueError(f"page {n}: type {kind} is not a B-tree page's")
    interior = kind in (_INTERIOR_INDEX, _INTERIOR_TABLE)
    count = int.from_bytes(buf[at + 3:at + 5], "big")
    content = int.from_bytes(buf[at + 5:at + 7], "big") or 65536
    pointers_end = at + (12 if interior else 8) + 2 * count
    if pointers_end > content or content > f.usable:
        raise ValueError(f"page {n}: {count} cells and content from {content} do not fit the page")
    pointers = list(struct.unpack_from(f">{count}H", buf, pointers_end - 2 * count))
    if pointers and not (content <= min(pointers) and max(pointers) < f.usable):
        i, p = next((i, p) for i, p in enumerate(pointers) if not content <= p < f.usable)
        raise ValueError(f"page {n}: cell {i} at {p} is outside the content area")
    for p in pointers:
        _check_cell(f, n, buf, kind, p)
    right = int.from_bytes(buf[at + 8:at + 12], "big") if interior else None
    return pointers, right


def _check_cell(f: _File, n: int, buf: bytes, kind: int, p: int) -> None:
    if kind == _INTERIOR_TABLE:
        end = p + 4 + _varint_size(buf, p + 4)
    else:
        start = p + (4 if kind == _INTERIOR_INDEX else 0)
        payload, used = _varint(buf, start) if buf[start] >= 0x80 else (buf[start], 1)
        end = start + used
        if kind == _LEAF_TABLE:
            end += _varint_size(buf, end)
        end += _local_payload(payload, f.usable, kind == _LEAF_TABLE)
    if end > f.usable:
        raise ValueError(f"page {n}: the cell at {p} runs past the page")


def _child(f: _File, n: int, child: int) -> int:
    if not 1 <= child <= f.pages:
        raise ValueError(f"page {n}: child page {child} is outside the file ({f.pages} pages)")
    return child


def _walk(f: _File, root: int) -> None:
    """Down the leftmost then the rightmost path from ``root`` (the root read once)."""
    _child(f, root, root)
    checked: dict[int, tuple[bytes, list[int], int | None]] = {}
    for right_edge in (False, True):
        n = root
        for _ in range(_MAX_DEPTH):
            if n not in checked:
                buf = f.page(n)
                checked[n] = (buf, *_cells(f, n, buf))
            buf, pointers, right = checked[n]
            if right is None:
                break
            if right_edge:
                n = _child(f, n, right)
            elif pointers:
                n = _child(f, n, int.from_bytes(buf[pointers[0]:pointers[0] + 4], "big"))
            else:
                raise ValueError(f"page {n}: an interior page with no cells")
        else:
            raise ValueError(f"tree at page {root}: deeper than {_MAX_DEPTH} pages")


def edge_problems(path: Path, roots: dict[str, int]) -> list[str]:
    """What is wrong along the edges of the schema's tree and the trees ``roots`` (name →
    root page) of the SQLite file ``path``: empty when nothing is."""
    try:
        f = _File(path)
    except (OSError, ValueError) as exc:
        return [str(exc)]
    problems: list[str] = []
    with f.data:
        for name, root in {"sqlite_schema": 1, **roots}.items():
            try:
                _walk(f, root)
            except (ValueError, IndexError) as exc:   # IndexError: a varint past the page
                problems.append(f"{name}: {exc or 'a cell runs past the page'}")
    return problems
