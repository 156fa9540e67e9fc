"""What a plan is to the run engine: its name, typed conditions and state, its step module,
and the check, at load, that its steps and its limits document agree.

A plan package ``testplans/<name>/`` exposes ``PLAN``; :func:`get_plan` finds it. The check
reads the step module's source (nothing runs): every name it passes to ``step.measure``
must be declared, and every declared measurement must be measured somewhere, so a typo in
a plan or a limits file is refused before the pack is powered.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

KNOWN_PLANS = ("eol", "cert", "rma")


class PlanError(ValueError):
    """A plan that does not exist, or whose steps and limits disagree."""


@dataclass(frozen=True)
class PlanDefinition:
    name: str
    conditions: type[BaseModel]
    state: type[Any]
    module: str   # the pytest module of its steps
    #: the instrument roles its steps use: a station file may leave the others out, and
    #: one of these missing is refused before anything is switched on (None: every role)
    roles: tuple[str, ...] | None = None

    @property
    def path(self) -> Path:
        spec = importlib.util.find_spec(self.module)
        if spec is None or spec.origin is None:
            raise PlanError(f"plan {self.name!r}: step module {self.module} not found")
        return Path(spec.origin)

    def measured_names(self) -> list[str | re.Pattern[str]]:
        """Names passed to ``.measure(...)`` (or ``.not_run(...)``, a measurement the plan
        declines with its reason): literals, and f-strings as patterns."""
        return list(_measured_names(self.path))

    def check_against(self, declared: list[str], where: str) -> None:
        """Refuse a plan that measures an undeclared name or never measures a declared one."""
        used = self.measured_names()
        literal = {u for u in used if isinstance(u, str)}
        patterns = [u for u in used if not isinstance(u, str)]
        unknown = sorted(n for n in literal if n not in declared)
        unknown += sorted(p.pattern for p in patterns if not any(p.fullmatch(d) for d in declared))
        if unknown:
            raise PlanError(f"{self.path.name} measures {', '.join(unknown)}, "
                            f"which {where} does not declare")
        never = [d for d in declared
                 if d not in literal and not any(p.fullmatch(d) for p in patterns)]
        if never:
            raise PlanError(f"{where} declares {', '.join(never)}, "
                            f"which no step of {self.path.name} measures")


@cache
def _measured_names(path: Path) -> tuple[str | re.Pattern[str], ...]:
    """Parsed once per process (as its module is imported once): a batch of runs reads the
    plan's source once. An f-string whose every field is a name bound to a literal set (a
    parameter annotated ``Literal[...]``, or a ``for`` over a tuple of strings) gives its
    exact names; any other f-string a pattern."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    parents = {id(c): n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}
    out: list[str | re.Pattern[str]] = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("measure", "not_run") and node.args):
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                out.append(arg.value)
            elif isinstance(arg, ast.JoinedStr):
                names = _expand(arg, _literal_sets(node, parents))
                if names is not None:
                    out.extend(names)
                    continue
                parts = [re.escape(str(v.value)) if isinstance(v, ast.Constant) else "[a-z0-9_]+"
                         for v in arg.values]
                out.append(re.compile("".join(parts)))
    return tuple(out)


def _strings(node: ast.AST | None) -> tuple[str, ...] | None:
    """The strings of a literal tuple/list (or one string constant), else None."""
    items = node.elts if isinstance(node, ast.Tuple | ast.List) else [node]
    if items and all(isinstance(i, ast.Constant) and isinstance(i.value, str) for i in items):
        return tuple(i.value for i in items)  # type: ignore[union-attr]
    return None


def _literal_sets(node: ast.AST, parents: dict[int, ast.AST]) -> dict[str, tuple[str, ...]]:
    """Names bound to a literal set where ``node`` is: the enclosing functions' parameters
    annotated ``Literal["a", "b"]`` and the enclosing ``for`` loops over literal tuples."""
    found: dict[str, tuple[str, ...]] = {}
    at: ast.AST | None = parents.get(id(node))
    while at is not None:
        if isinstance(at, ast.For) and isinstance(at.target, ast.Name):
            values = _strings(at.iter)
            if values is not None:
                found.setdefault(at.target.id, values)
        elif isinstance(at, ast.FunctionDef | ast.AsyncFunctionDef):
            for a in (*at.args.posonlyargs, *at.args.args, *at.args.kwonlyargs):
                ann = a.annotation
                if (isinstance(ann, ast.Subscript) and getattr(ann.value, "id", getattr(
                        ann.value, "attr", None)) == "Literal"):
                    values = _strings(ann.slice)
                    if values is not None:
                        found.setdefault(a.arg, values)
        at = parents.get(id(at))
    return found


def _expand(arg: ast.JoinedStr, sets: dict[str, tuple[str, ...]]) -> list[str] | None:
    """Every name the f-string can give when each field is a bare name of ``sets``."""
    names = [""]
    for v in arg.values:
        if isinstance(v, ast.Constant):
            names = [n + str(v.value) for n in names]
        elif (isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Name)
              and v.value.id in sets and v.conversion == -1 and v.format_spec is None):
            names = [n + s for n in names for s in sets[v.value.id]]
        else:
            return None
    return names


def get_plan(name: str) -> PlanDefinition:
    if name not in KNOWN_PLANS:
        raise PlanError(f"unknown plan {name!r}; known plans: {', '.join(KNOWN_PLANS)}")
    plan = importlib.import_module(f"testplans.{name}").PLAN
    assert isinstance(plan, PlanDefinition)
    return plan
