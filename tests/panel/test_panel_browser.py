"""The panel as an operator drives it, in real Chromium (Debian's, headless, via Playwright).

One served panel (a two-slot simulated station paced at 4x, so a click lands mid-run;
docs/operator.md) and one browser for the whole module; a second tiny panel for the
blocked station. Screenshots of each state go to ``$VSTATION_SCREENSHOTS`` (default:
``results/screenshots``)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Page, expect, sync_playwright

from sim.unit import default_unit, with_change, write_unit
from stations.panel.app import Panel
from stations.panel.auth import Users
from stations.slots import PROMPTS_ATTACHMENT
from tests.line.helpers import station_file

#: The bench here is paced by the wall clock, so a CPU starved by a parallel suite starves
#: its runs too (docs/line.md): `make test` runs this module on its own, after the rest.
pytestmark = pytest.mark.paced

CHROMIUM = "/usr/bin/chromium"
GOOD = "PV5S260100000013"

OFF_SPEC = "PV5S260100000021"
SHOTS = Path(os.environ.get("VSTATION_SCREENSHOTS", "results/screenshots"))
WEDGE_MS = 8   # a keyboard-wedge scanner: about 8 ms between keys
PACE = 4.0     # station seconds per wall second: a click lands mid-run
CYCLE_S = 86.6   # the golden EOL run, station time (honest command times: docs/instruments.md)
#: A whole run in wall time, with room for a host that runs three suites on two cores.
RUN_MS = int(3 * CYCLE_S / PACE * 1000)
#: The pack ports' answer timeouts for a paced bench on a starved host: the defaults (RS485
#: 0.5 s, console 2 s of station time) are an eighth and half a wall second at PACE, less
#: than two slots' benches and Chromium sharing two cores can stall a port's thread (a CI
#: run ended a slot in ERROR, "no prompt after 'pwr' within 2.0 s"). Station seconds.
SLOW_HOST_PORTS = {
    'rs485 = { port = "sim", baud = 9600 }': 'rs485 = { port = "sim", baud = 9600, timeout_s = 4.0 }',
    'console = { port = "sim", baud = 115200 }': 'console = { port = "sim", baud = 115200, timeout_s = 8.0 }',
}
#: From the scan to the first measurement: the worker opens the bench, the first step's
#: ground bond (3 s of station time); the first run of a worker also imports the engine.
FIRST_MS = 30_000


def _serial(seq: int) -> str:
    from common.serial_number import make_serial

    return make_serial("S", 26, 1, seq)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self, panel: Panel) -> None:
        self.panel, self.port = panel, _port()
        self.server = uvicorn.Server(uvicorn.Config(panel.app, host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Served:
        self.thread.start()
        assert self.panel.line.wait_idle(timeout=60), "slots did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(60)


def _panel(folder: Path, stop_on_fail: bool = False, prompts_file: Path | None = None,
           **station: Any) -> Panel:
    path, _ = station_file(folder, **station)
    users = Users(folder / "users.json")
    users.add("olga", "operator", "olga-pw")
    users.add("erik", "engineer", "erik-pw")
    units = folder / "units"
    units.mkdir()
    # an off-spec unit: its BMS carries another pack's serial than the label scanned
    write_unit(with_change(default_unit("v5", OFF_SPEC), "identity.serial", GOOD), units / f"{OFF_SPEC}.toml")
    return Panel(path, folder / "out", users_file=folder / "users.json", units_dir=units,
                 stop_on_fail=stop_on_fail, prompts_file=prompts_file)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("panel")
    with Served(_panel(folder, source="sim-line.toml", slots=2, pace=PACE,
                       stop_on_fail=True, replace=SLOW_HOST_PORTS)) as s:
        yield s


@pytest.fixture(scope="module")
def page(browser: Any, served: Served) -> Iterator[Page]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    _login(pg, served.url, "olga", "olga-pw")
    yield pg
    ctx.close()


def _login(pg: Page, url: str, name: str, password: str) -> None:
    pg.goto(url + "/login")
    pg.fill("#name", name)
    pg.fill("#password", password)
    pg.click("#login")
    expect(pg.locator("body[data-ready='1']")).to_be_attached(timeout=15_000)


def _scan(pg: Page, serial: str) -> None:
    pg.locator("#scan").focus()
    pg.keyboard.type(serial, delay=WEDGE_MS)
    pg.keyboard.press("Enter")


def _start(pg: Page, serial: str, slot: str = "A") -> Any:
    """Scan into a slot the page shows idle (the last run's end seen); its box testing."""
    box = pg.locator(f"#slot-{slot}")
    expect(box).to_have_attribute("data-status", "idle", timeout=RUN_MS)
    _scan(pg, serial)
    expect(box).to_have_attribute("data-status", re.compile("testing|stopping"), timeout=10_000)
    return box


def _measured(pg: Page, slot: str) -> Any:
    """The first PASS row of the run now in the slot (a finished run's rows do not count)."""
    return pg.locator(f"#slot-{slot}:is([data-status='testing'], [data-status='stopping']) "
                      "tr.PASS").first


def _record(served: Served, slot: str) -> dict[str, Any]:
    res = next(v for v in served.panel.line.views() if v["id"] == slot)["result"]
    return json.loads(Path(res["record_path"]).read_bytes())


def test_login_refuses_a_wrong_password(browser: Any, served: Served) -> None:
    ctx = browser.new_context()
    pg = ctx.new_page()
    pg.goto(served.url + "/login")
    pg.fill("#name", "olga")
    pg.fill("#password", "not-it")
    pg.click("#login")
    expect(pg.locator("#login-error")).to_contain_text("wrong name or password")
    ctx.close()


def test_a_typo_in_the_serial_is_refused_at_once(page: Page) -> None:
    _scan(page, GOOD[:-1] + "X")
    expect(page.locator("#scan-msg")).to_contain_text("check character")
    expect(page.locator("#slot-A")).to_have_attribute("data-status", "idle")


def test_scan_and_watch_a_run_to_pass(page: Page, served: Served) -> None:
    slot = _start(page, GOOD)
    expect(_measured(page, "A")).to_be_visible(timeout=FIRST_MS)   # live measurements
    expect(slot.locator(".step-name")).not_to_have_text("starting")
    page.screenshot(path=SHOTS / "panel-running.png")
    expect(page.locator("#verdict-A")).to_have_text("PASS", timeout=RUN_MS)
    expect(slot.locator(".cert")).to_be_visible()
    page.screenshot(path=SHOTS / "panel-pass.png")
    assert _record(served, "A")["verdict"] == "PASS"


def test_an_off_spec_unit_fails_with_the_reason(page: Page, served: Served) -> None:
    _start(page, OFF_SPEC)   # the panel stops on a FAIL: the plan ends after identity
    expect(page.locator("#verdict-A")).to_have_text("FAIL", timeout=RUN_MS)
    why = page.locator("#why-A")
    expect(why).to_contain_text(GOOD)            # what the BMS said, in words
    expect(why).to_contain_text("identity")      # the step
    page.screenshot(path=SHOTS / "panel-fail.png")
    rec = _record(served, "A")
    assert rec["verdict"] == "FAIL" and rec["failure"]["measurement"] == "serial_rs485"
    assert {m["step"] for m in rec["measurements"] if m["outcome"] == "NOT_RUN"} >= {"rest"}


def test_stop_mid_run_leaves_the_bench_safe_and_an_aborted_record(page: Page, served: Served) -> None:
    slot = _start(page, GOOD)
    expect(_measured(page, "A")).to_be_visible(timeout=FIRST_MS)
    page.click("#stop-A")
    expect(page.locator("#verdict-A")).to_have_text("ABORTED", timeout=RUN_MS)
    expect(page.locator("#safe-A")).to_have_text("bench safe")
    expect(slot.locator(".retest")).to_contain_text("of this serial")
    page.screenshot(path=SHOTS / "panel-stopped.png")
    rec = _record(served, "A")
    assert rec["verdict"] == "ABORTED" and "operator stop" in rec["failure"]["message"]
    assert any(m["outcome"] == "NOT_RUN" for m in rec["measurements"])


def test_two_slots_run_at_once(page: Page, served: Served) -> None:
    _start(page, GOOD, "A")
    _start(page, _serial(2), "B")
    for slot in ("A", "B"):
        expect(_measured(page, slot)).to_be_visible(timeout=FIRST_MS)
    both = [v["status"] for v in served.panel.line.views()]
    assert both == ["testing", "testing"], both
    page.screenshot(path=SHOTS / "panel-two-slots.png")
    for slot in ("A", "B"):
        page.click(f"#stop-{slot}")
    for slot in ("A", "B"):
        expect(page.locator(f"#verdict-{slot}")).to_have_text("ABORTED", timeout=RUN_MS)


def test_an_operator_cannot_abort_an_engineer_can(browser: Any, page: Page, served: Served) -> None:
    expect(page.locator(".abort")).to_have_count(0)
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    eng = ctx.new_page()
    _login(eng, served.url, "erik", "erik-pw")
    eng.on("dialog", lambda d: d.accept())
    _scan(eng, GOOD)
    expect(eng.locator("#scan-msg")).to_contain_text("testing in slot")
    slot = eng.locator("#scan-msg").inner_text().rsplit(" ", 1)[1]
    expect(_measured(eng, slot)).to_be_visible(timeout=FIRST_MS)
    eng.click(f"#abort-{slot}")
    expect(eng.locator(f"#verdict-{slot}")).to_have_text("ABORTED", timeout=60_000)
    expect(eng.locator(f"#slot-{slot} .note")).to_contain_text("bench safe", timeout=60_000)
    eng.screenshot(path=SHOTS / "panel-aborted.png")
    ctx.close()
    assert served.panel.line.wait_idle(slot, timeout=60)


def test_a_station_with_expired_calibration_is_blocked(browser: Any,
                                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("blocked")
    panel = _panel(folder, replace={'serial = "SIM-LOAD-0001"\ncalibration_due = 2036-12-31':
                                    'serial = "SIM-LOAD-0001"\ncalibration_due = 2025-12-31'})
    with Served(panel) as served:
        ctx = browser.new_context(viewport={"width": 1400, "height": 900})
        pg = ctx.new_page()
        _login(pg, served.url, "olga", "olga-pw")
        gate = pg.locator("#gate")
        expect(gate).to_contain_text("STATION BLOCKED")
        expect(gate).to_contain_text("calibration of the load (serial SIM-LOAD-0001) expired on 2025-12-31")
        expect(gate).to_contain_text("What to do")
        _scan(pg, GOOD)
        expect(pg.locator("#scan-msg")).to_contain_text("station blocked")
        pg.screenshot(path=SHOTS / "panel-blocked.png")
        ctx.close()
    assert not list((folder / "out").glob("*.json")), "no run started"


def test_the_trace_plot_follows_the_running_step(page: Page, served: Served) -> None:
    slot = _start(page, GOOD)
    # the rest step: the open-circuit voltage (V), then each cell's error (mV); its plot
    # stays until a later step measures a voltage or a current. Seen at one instant, in
    # the page: what the canvas says it plots and how many pixels each series painted,
    # once it holds six points (at three, the mV series can be two points at one instant:
    # a dot of about twenty pixels, not a line).
    seen = page.wait_for_function("""() => {
        const c = document.getElementById("trace-A");
        if (!c || c.dataset.step !== "rest" || Number(c.dataset.points) < 6) return null;
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let left = 0, right = 0;   // the left axis's series (#1e6bd6), the right's (#c77700)
        for (let i = 0; i < d.length; i += 4) {
            if (d[i] === 0x1e && d[i + 1] === 0x6b && d[i + 2] === 0xd6) left++;
            if (d[i] === 0xc7 && d[i + 1] === 0x77 && d[i + 2] === 0x00) right++;
        }
        return {units: c.dataset.units, points: Number(c.dataset.points), left, right};
    }""", polling="raf", timeout=FIRST_MS).json_value()
    page.screenshot(path=SHOTS / "panel-trace.png")
    views = served.panel.line.views()[0]["measurements"]
    rest = [m for m in views if m["step"] == "rest" and m["unit"] in ("V", "mV")]
    assert seen["units"] == "V mV" and 6 <= seen["points"] <= len(rest), (seen, len(rest))
    assert seen["left"] > 20 and seen["right"] > 20, seen   # both series drawn
    page.click("#stop-A")
    expect(page.locator("#verdict-A")).to_have_text("ABORTED", timeout=RUN_MS)
    expect(slot.locator("canvas.trace")).to_have_count(0)   # a finished run shows its verdict


def test_prompts_are_answered_before_the_run_and_kept_in_its_record(
        browser: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    from reports.verify import verify

    folder = tmp_path_factory.mktemp("prompts")
    prompts = Path(__file__).resolve().parents[2] / "stations" / "panel" / "prompts.toml"
    with Served(_panel(folder, prompts_file=prompts, source="sim-line.toml", slots=1)) as served:
        ctx = browser.new_context(viewport={"width": 1400, "height": 900})
        pg = ctx.new_page()
        _login(pg, served.url, "olga", "olga-pw")
        _scan(pg, GOOD)
        form = pg.locator("#prompts")
        expect(form).to_be_visible()
        expect(form.locator(".prompt")).to_have_count(4)
        expect(form).to_contain_text("CONNECT")
        pg.check("#item-label")
        pg.check("#item-fixture")
        pg.screenshot(path=SHOTS / "panel-prompts.png")
        pg.click("#prompts-start")   # the cable not confirmed: no run
        expect(pg.locator("#prompts-msg")).to_contain_text(
            "not answered: Connect the link-port cable")
        expect(pg.locator("#slot-A")).to_have_attribute("data-status", "idle")
        photo = pg.screenshot()   # a real PNG: the page as it is now
        pg.check("#item-cable")
        pg.set_input_files("#photo-photo", {"name": "pack.png", "mimeType": "image/png",
                                            "buffer": photo})
        pg.click("#prompts-start")
        expect(form).to_be_hidden()
        expect(pg.locator("#verdict-A")).to_have_text("PASS", timeout=RUN_MS)
        pg.screenshot(path=SHOTS / "panel-prompts-pass.png")
        ctx.close()
        res = served.panel.line.views()[0]["result"]
    record_path = Path(res["record_path"])
    rec = json.loads(record_path.read_bytes())
    kept = {a["name"]: a for a in rec["attachments"]}
    assert kept["photo-photo.png"]["sha256"] == hashlib.sha256(photo).hexdigest()
    assert (record_path.parent / kept["photo-photo.png"]["file"]).read_bytes() == photo
    answers = json.loads((record_path.parent / kept[PROMPTS_ATTACHMENT]["file"]).read_bytes())
    assert answers["operator"] == "olga" and answers["serial"] == GOOD
    assert {i["id"]: i["answer"] for i in answers["items"]} == {
        "label": "yes", "cable": "yes", "fixture": "yes", "photo": "photo-photo.png"}
    checked = verify(record_path)
    assert checked.ok, checked.problems   # the signature covers the photo's hash
