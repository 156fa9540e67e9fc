"""The record names the software beyond its version: the commit of the checkout and its
dirty flag, the plan files' hash and the resolved dependency set against the repository's
lock file; signed, stored and verified like every other field. A tree without git still
runs and says the commit is unknown."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from fixtures import provenance
from reports.record import Record
from reports.store import open_store
from reports.verify import verify
from stations.batch import run_quietly

ROOT = provenance.ROOT


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_a_run_records_commit_plan_hash_and_dependencies_and_verifies(tmp_path: Path) -> None:
    code, record = run_quietly(tmp_path, "PV5S260100000013")
    assert code == 0 and record is not None
    sw = record.software
    assert sw is not None
    assert sw.commit == _git(ROOT, "rev-parse", "HEAD")
    assert sw.dirty is bool(_git(ROOT, "status", "--porcelain", "--untracked-files=no"))
    assert sw.plan_sha256 == provenance.plan_sha256("eol")
    assert "pydantic==" + __import__("pydantic").VERSION in sw.dependencies
    assert sw.lock_matches is (provenance.lock_pins(ROOT / "requirements.lock") == set(sw.dependencies))
    on_disk = Record.load(next(tmp_path.glob("*.json")))
    assert on_disk.software == sw                          # in the signed JSON
    with open_store(None, tmp_path) as store:
        assert store.load_record(record.run_id).software == sw   # and in the store
    result = verify(next(tmp_path.glob("*.pdf")))
    assert result.ok, result.problems


def test_the_lock_file_is_the_dev_environments_resolution() -> None:
    """requirements.lock pins exactly what the dev environment installed (else: make lock)."""
    assert provenance.lock_pins(ROOT / "requirements.lock") == set(provenance.installed())


def test_the_plan_hash_follows_the_plan_files(tmp_path: Path) -> None:
    copy = tmp_path / "tree"
    shutil.copytree(ROOT / "testplans", copy / "testplans",
                    ignore=shutil.ignore_patterns("__pycache__", "limits"))
    before = provenance.plan_sha256("eol", copy)
    assert before == provenance.plan_sha256("eol")
    step = copy / "testplans" / "eol" / "test_eol.py"
    step.write_text(step.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert provenance.plan_sha256("eol", copy) != before
    assert provenance.plan_sha256("cert", copy) == provenance.plan_sha256("cert")


def test_a_tree_without_git_says_the_commit_is_unknown(tmp_path: Path) -> None:
    copy = tmp_path / "sdist"
    shutil.copytree(ROOT / "testplans", copy / "testplans",
                    ignore=shutil.ignore_patterns("__pycache__"))
    sw = provenance.software("eol", copy)
    assert sw.commit == "unknown" and sw.dirty is None
    assert "no git checkout" in sw.note and "commit unknown" in sw.note
    assert sw.lock_sha256 is None and sw.lock_matches is None


def _committed_repo(repo: Path) -> Path:
    """A git checkout holding one committed plan file, ``testplans/eol/test_eol.py``."""
    (repo / "testplans" / "eol").mkdir(parents=True)
    (repo / "testplans" / "eol" / "test_eol.py").write_text("x = 1\n", encoding="utf-8")
    env = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), *env, "add", "."], check=True)
    subprocess.run(["git", "-C", str(repo), *env, "commit", "-qm", "x"], check=True)
    return repo


@pytest.mark.parametrize("edit", [False, True])
def test_dirty_flag_from_git(tmp_path: Path, edit: bool) -> None:
    repo = _committed_repo(tmp_path / "repo")
    if edit:
        (repo / "testplans" / "eol" / "test_eol.py").write_text("x = 2\n", encoding="utf-8")
    commit, dirty, note = provenance.git_state(repo)
    assert commit == _git(repo, "rev-parse", "HEAD") and dirty is edit and note == ""


def test_the_checkout_is_asked_once_a_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _committed_repo(tmp_path / "repo")
    asked: list[tuple[str, ...]] = []
    real = provenance._git
    monkeypatch.setattr(provenance, "_git", lambda root, *a: asked.append(a) or real(root, *a))
    first = provenance.software("eol", repo)
    (repo / "testplans" / "eol" / "test_eol.py").write_text("x = 2\n", encoding="utf-8")
    second = provenance.software("eol", repo)   # the next unit of a lot: the code it runs
    assert len(asked) == 2 and first.commit == second.commit and second.dirty is False
