"""Operator prompts before a run: the file checked with the item at fault named, and a run
that does not start while a required item is unanswered (the browser test drives the
answered path to a record that keeps the answers and the photo)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stations.panel.app import Panel
from stations.panel.prompts import Photo, PromptsError, check_answers, load_prompts
from tests.line.helpers import station_file

PROMPTS = Path(__file__).resolve().parents[2] / "stations" / "panel" / "prompts.toml"
GOOD = "PV5S260100000013"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def test_the_shipped_prompts_ask_a_check_a_cable_and_a_photo() -> None:
    kinds = {p.kind for p in load_prompts(PROMPTS)["eol"]}
    assert kinds == {"confirm", "connect", "photo"}


@pytest.mark.parametrize(("item", "error"), [
    ('{ id = "lid", kind = "wave", text = "x" }', r"item 1 \(lid\): kind 'wave'"),
    ('{ id = "lid", kind = "confirm", text = " " }', r"item 1 \(lid\): the text"),
    ('{ id = "Lid", kind = "confirm", text = "x" }', r"item 1: id 'Lid'"),
    ('{ id = "lid", kind = "confirm", text = "x", colour = "red" }', r"item 1: give id, kind"),
])
def test_a_bad_prompts_file_names_the_item(tmp_path: Path, item: str, error: str) -> None:
    path = tmp_path / "prompts.toml"
    path.write_text(f"[eol]\nitems = [{item}]\n")
    with pytest.raises(PromptsError, match=rf"prompts file {path}: \[eol\] {error}"):
        load_prompts(path)


def test_every_required_item_must_be_answered() -> None:
    asked = load_prompts(PROMPTS)["eol"]
    yes = {"label": "yes", "cable": "yes", "fixture": "yes"}
    with pytest.raises(PromptsError, match="not answered: Connect the link-port cable"):
        check_answers(asked, {**yes, "cable": ""}, {})
    with pytest.raises(PromptsError, match="the photo is text/plain"):
        check_answers(asked, yes, {"photo": Photo("photo", b"hello", "text/plain")})
    kept = check_answers(asked, yes, {"photo": Photo("photo", PNG, "image/png")})
    assert [i["answer"] for i in kept["items"]] == ["yes", "yes", "yes", "photo-photo.png"]
    assert check_answers(asked, yes, {})["items"][3]["answer"] is None   # optional


def test_the_panel_starts_no_run_with_an_unanswered_item(tmp_path: Path) -> None:
    station, _ = station_file(tmp_path, source="sim-line.toml", slots=1)
    panel = Panel(station, tmp_path / "out", users_file=tmp_path / "users.json",
                  prompts_file=PROMPTS)
    asked = panel.scan(GOOD, "olga", "operator")
    assert asked["ok"] and [a["id"] for a in asked["ask"]] == ["label", "cable", "fixture", "photo"]
    refused = panel.start(GOOD, "olga", "operator", "", {"label": "yes", "cable": "yes"}, {})
    assert refused == {"ok": False, "serial": GOOD,
                       "error": "not answered: The fixture lid is closed and latched"}
    assert [v["status"] for v in panel.line.views()] == ["starting"]   # no job went out
    assert panel.line.slots["A"].job is None


def test_serve_refuses_a_bad_prompts_file_before_it_starts(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from stations.cli import app

    bad = tmp_path / "prompts.toml"
    bad.write_text('[eol]\nitems = [{ id = "cable", kind = "plug", text = "x" }]\n')
    result = CliRunner().invoke(app, ["serve", "--prompts", str(bad), "--out", str(tmp_path),
                                      "--port", "1"])
    assert result.exit_code == 2
    assert "(cable): kind 'plug' is not one of confirm, connect, photo" in result.output
    assert not (tmp_path / "slots").exists()   # no slot was set up
