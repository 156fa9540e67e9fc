"""The start's bounded check of a large SQLite store (reports/store/sqlite_pages.py): it
never refuses a sound store, and finds a damaged page anywhere on the edges it reads."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from benchmarks.lotgen import fill_lot
from reports.store import open_store
from reports.store.sqlite_pages import edge_problems

PAGE = 4096


@pytest.fixture(scope="module")
def lot_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,000 runs of 30 measurements (three-level trees), some rows overflowing their page."""
    out = tmp_path_factory.mktemp("edges")
    with open_store(None, out) as store:
        fill_lot(store, 1000)
    db = out / "station.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET operator = printf('%.9000c', 'o') WHERE pk % 97 = 0")
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


def _trees(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT name, rootpage FROM sqlite_master WHERE rootpage > 0"))


def _edge_pages(db: Path) -> list[tuple[str, int]]:
    """Each tree's pages down its leftmost and rightmost paths (dbstat's paths: at every
    depth, the first and the last) that hold cells: an empty table's root has nothing a
    damage could break but its unused bytes, which no check reads."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT name, path, pageno FROM dbstat "
                            "WHERE pagetype != 'overflow' AND ncell > 0").fetchall()
    by_depth: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for name, path, page in rows:
        by_depth.setdefault((name, path.count("/")), []).append((path, page))
    out = []
    for (name, _), pages in by_depth.items():
        pages.sort()
        out += [(name, pages[0][1]), (name, pages[-1][1])]
    return sorted(set(out))


def test_a_sound_store_has_no_problem_on_any_edge(lot_store: Path) -> None:
    trees = _trees(lot_store)
    assert len(trees) > 10
    assert edge_problems(lot_store, trees) == []
    with sqlite3.connect(lot_store) as conn:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        depth = conn.execute("SELECT max(length(path) - length(replace(path, '/', ''))) "
                             "FROM dbstat WHERE name = 'measurements'").fetchone()[0]
        assert depth >= 3   # root, interior, leaves: the walk goes down more than one level


def test_every_edge_page_damaged_is_found(lot_store: Path) -> None:
    trees = _trees(lot_store)
    edges = _edge_pages(lot_store)
    assert len(edges) > 2 * len(trees)
    missed = []
    with lot_store.open("r+b") as f:
        for name, page in edges:
            f.seek((page - 1) * PAGE)
            original = f.read(PAGE)
            start = 100 if page == 1 else 0   # page 1 holds the file header first
            f.seek((page - 1) * PAGE + start + 8)
            f.write(b"\xa5" * 800)            # the cell pointers (an interior page's child)
            f.flush()
            if not edge_problems(lot_store, trees):
                missed.append((name, page))
            f.seek((page - 1) * PAGE)
            f.write(original)
            f.flush()
    assert missed == [], missed
    assert edge_problems(lot_store, trees) == []   # restored


def test_a_file_that_is_not_sqlite_is_said(tmp_path: Path) -> None:
    bad = tmp_path / "x.sqlite"
    bad.write_bytes(b"not a database" * 100)
    assert edge_problems(bad, {"runs": 2}) == ["the file header is not SQLite's"]
