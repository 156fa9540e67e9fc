"""Run every benchmark module (``benchmarks/bench_*.py``) and print its figures.

Each module has ``run() -> list[Figure]``. The runner prints one table and then one JSON
document with every figure, so a person and a script read the same numbers.
``python -m benchmarks [NAME ...]`` runs only the modules whose name contains NAME.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time

from rich.console import Console
from rich.table import Table

import benchmarks
from benchmarks.figure import Figure


def _modules(selected: list[str]) -> list[str]:
    names = sorted(
        m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_")
    )
    return [n for n in names if not selected or any(s in n for s in selected)]


def main(argv: list[str]) -> int:
    figures: list[Figure] = []
    console = Console(stderr=True)
    for name in _modules(argv):
        console.print(f"[bold]running[/] {name} ...")
        started = time.perf_counter()
        module = importlib.import_module(f"benchmarks.{name}")
        figures.extend(module.run())
        console.print(f"  done in {time.perf_counter() - started:.1f} s")
    table = Table(title="Benchmarks")
    for col in ("figure", "value", "unit", "target", "met"):
        table.add_column(col)
    for f in figures:
        table.add_row(f.name, f"{f.value:.4g}", f.unit, f.target_text(), "yes" if f.met else "NO")
    Console().print(table)
    print(json.dumps({"figures": [f.as_dict() for f in figures]}, indent=2))
    return 0 if all(f.met for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
