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
    plan's source once."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out: list[str | re.Pattern[str]] = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("measure", "not_run") and node.args):
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                out.append(arg.value)
            elif isinstance(arg, ast.JoinedStr):
                parts = [re.escape(str(v.value)) if isinstance(v, ast.Constant) else "[a-z0-9_]+"
                         for v in arg.values]
                out.append(re.compile("".join(parts)))
    return tuple(out)


def get_plan(name: str) -> PlanDefinition:
    if name not in KNOWN_PLANS:
        raise PlanError(f"unknown plan {name!r}; known plans: {', '.join(KNOWN_PLANS)}")
    plan = importlib.import_module(f"testplans.{name}").PLAN
    assert isinstance(plan, PlanDefinition)
    return plan
