"""``station serve``: the operator panel, a local web page over the station's slots.

One scan field (a keyboard-wedge scanner types the serial and Enter); the serial's check
character is checked at once and the plan and limits follow from the serial's model and
the station's released limits. Each run goes to a free slot (``stations.slots.Line``),
whose worker runs it through the engine; the page follows it live over server-sent
events (each measurement as the recorder hands it to the observer). Stop and Abort are
the engine's terminate and abort signals. Production runs wait for the gate
(``stations.gate``). Every asset is in ``static/``: the floor PC has no internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from stations.panel.auth import Users, csrf_ok, csrf_token, may, secret_key

HERE = Path(__file__).resolve().parent
KEEPALIVE_S = 15.0   # the HTTP stream's keepalive: server timing, not station time


class Broadcast:
    """Line events (from its reader thread) to every open event stream (asyncio)."""

    def __init__(self) -> None:
        self._clients: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[str]]] = set()
        self._lock = threading.Lock()

    def add(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue[str]]:
        client: tuple[asyncio.AbstractEventLoop, asyncio.Queue[str]] = (
            asyncio.get_running_loop(), asyncio.Queue())
        with self._lock:
            self._clients.add(client)
        return client

    def remove(self, client: Any) -> None:
        with self._lock:
            self._clients.discard(client)

    def send(self, event: str, data: Any) -> None:
        text = f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"
        with self._lock:
            clients = list(self._clients)
        for loop, q in clients:
            with contextlib.suppress(RuntimeError):   # a page that closed meanwhile
                loop.call_soon_threadsafe(q.put_nowait, text)


class Panel:
    """The panel's state: the line, the gate, the users; the FastAPI app in ``app``."""

    def __init__(self, station_file: Path, out_dir: Path, *, users_file: Path | None = None,
                 units_dir: Path | None = None, db: str | None = None,
                 plan: str = "eol", stop_on_fail: bool = False,
                 prompts_file: Path | None = None) -> None:
        from stations.panel.prompts import load_prompts
        from stations.slots import Line

        #: the plan's operator prompts (a bad file is refused here, before any slot starts)
        self.prompts = load_prompts(prompts_file) if prompts_file else {}

        self.out_dir, self.units_dir, self.plan, self.db = Path(out_dir), units_dir, plan, db
        self.stop_on_fail = stop_on_fail   # a FAIL ends the plan after its step (the rest NOT RUN)
        self.station_file = Path(station_file)
        self.users = Users(users_file or self.out_dir / "panel-users.json")
        self.broadcast = Broadcast()
        self.line = Line(self.station_file, self.out_dir, db=db, on_event=self._on_line)
        self.gate_running = False
        self._blocked: bool | None = None
        self.app = self._make_app()

    # -- the line's events ------------------------------------------------------------------
    def _on_line(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "measurement":
            ev = dict(data["event"])
            self.broadcast.send("measurement", {"slot": data["slot"], **{
                k: v for k, v in ev.items() if k not in ("slot", "job", "kind")}})
        else:
            self.broadcast.send("slot", data["view"])

    def gate(self) -> dict[str, Any]:
        from fixtures.mes import publish_state
        from stations.gate import status

        st = status(self.line.config, self.out_dir)
        if st.ok != (not self._blocked) or self._blocked is None:
            self._blocked = not st.ok
            with contextlib.suppress(OSError):
                publish_state(self.line.config, self.out_dir, "blocked" if not st.ok else "idle",
                              "; ".join(st.reasons) or "gate open", None)
        return {"ok": st.ok, "reasons": st.reasons, "actions": st.actions,
                "running": self.gate_running, "golden": self.line.config.gate is not None}

    def snapshot(self) -> dict[str, Any]:
        return {"slots": self.line.views(), "gate": self.gate()}

    # -- actions ----------------------------------------------------------------------------
    def scan(self, serial: str, operator: str, role: str, select: str = "",
             slot: str | None = None) -> dict[str, Any]:
        """A scan: checked at once; the plan's prompts to answer first, or the run started."""
        checked = self._checked(serial, role, select)
        if "error" in checked:
            return {"ok": False, "error": checked["error"]}
        if self.prompts.get(self.plan):
            return {"ok": True, "serial": checked["serial"],
                    "ask": [p.view() for p in self.prompts[self.plan]]}
        return self._launch(checked, operator, slot, None)

    def start(self, serial: str, operator: str, role: str, select: str,
              answers: dict[str, str], photos: dict[str, Any],
              slot: str | None = None) -> dict[str, Any]:
        """The prompts answered: the run starts only if every required one is."""
        from stations.panel.prompts import PromptsError, check_answers

        checked = self._checked(serial, role, select)
        if "error" in checked:
            return {"ok": False, "error": checked["error"]}
        asked = self.prompts.get(self.plan, [])
        photos = {k: v for k, v in photos.items() if any(p.id == k and p.kind == "photo"
                                                         for p in asked)}
        try:
            kept = check_answers(asked, answers, photos)
        except PromptsError as exc:
            return {"ok": False, "error": str(exc), "serial": checked["serial"]}
        return self._launch(checked, operator, slot, {"answers": kept, "photos": [
            (ph.name, ph.data, ph.media_type, next(p.text for p in self.prompts[self.plan]
                                                   if p.id == ph.prompt))
            for ph in photos.values()]})

    def _checked(self, serial: str, role: str, select: str) -> dict[str, Any]:
        """The serial's check character, and the gate for a production run."""
        from common.serial_number import InvalidSerialError, parse_serial

        try:
            sn = parse_serial(serial)
        except InvalidSerialError as exc:
            return {"error": str(exc)}
        development = bool(select.strip()) and may(role, "engineer")
        if not development:
            gate = self.gate()
            if not gate["ok"]:
                return {"error": "station blocked: " + "; ".join(gate["reasons"])}
        return {"serial": sn.text, "select": ["-k", select.strip()] if development else []}

    def _launch(self, checked: dict[str, Any], operator: str, slot: str | None,
                prompts: dict[str, Any] | None) -> dict[str, Any]:
        from stations.slots import SlotBusy

        serial = checked["serial"]
        unit = self.units_dir / f"{serial}.toml" if self.units_dir else None
        # two scans in quick succession may both see the same slot free: the line takes
        # one run per slot under its lock, the other goes to the next free slot
        tried: set[str] = set()
        while True:
            chosen = slot or next((v["id"] for v in self.line.views()
                                   if v["status"] == "idle" and v["id"] not in tried), None)
            if chosen is None:
                return {"ok": False, "error": "every slot is busy: wait for one to finish"}
            try:
                self.line.run(chosen, plan=self.plan, serial=serial, operator=operator,
                              unit_file=unit if unit is not None and unit.is_file() else None,
                              select=checked["select"], prompts=prompts,
                              stop_on_fail=self.stop_on_fail)
            except SlotBusy as exc:
                if slot is not None:
                    return {"ok": False, "error": str(exc)}
                tried.add(chosen)
                continue
            return {"ok": True, "slot": chosen, "serial": serial}

    def golden_check(self, operator: str) -> None:
        from stations.gate import run_check

        def work() -> None:
            try:
                run_check(self.station_file, self.out_dir, operator, self.db)
            finally:
                self.gate_running = False
                self.broadcast.send("gate", self.gate())

        self.gate_running = True
        self.broadcast.send("gate", self.gate())
        threading.Thread(target=work, name="golden-check", daemon=True).start()

    def certificate(self, run_id: str) -> Path | None:
        for view in self.line.views():
            res = view["result"] or {}
            if res.get("run_id") == run_id and res.get("certificate_path"):
                path = Path(res["certificate_path"]).resolve()
                if path.is_file() and self.out_dir.resolve() in path.parents:
                    return path
        return None

    # -- the web app ------------------------------------------------------------------------
    def _make_app(self) -> FastAPI:
        panel = self

        @contextlib.asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            panel.line.start()
            try:
                yield
            finally:
                await asyncio.get_running_loop().run_in_executor(None, panel.line.close)

        app = FastAPI(title="vstation panel", lifespan=lifespan, docs_url=None, redoc_url=None,
                      openapi_url=None)
        app.add_middleware(SessionMiddleware, secret_key=secret_key(self.out_dir / "panel-secret"),
                           session_cookie="vstation_panel", same_site="strict", https_only=False)
        app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
        templates = Jinja2Templates(directory=HERE / "templates")

        def user(request: Request, needed: str = "operator") -> dict[str, str]:
            who = request.session.get("user")
            if not who or not may(who.get("role"), needed):
                raise HTTPException(403, f"this needs an {needed} log-in")
            return who

        def checked(request: Request, token: str | None) -> None:
            if not csrf_ok(request.session, token or request.headers.get("x-csrf-token")):
                raise HTTPException(403, "the form is stale: reload the page")

        @app.get("/login")
        def login_form(request: Request, error: str = "") -> Any:
            return templates.TemplateResponse(request, "login.html", {
                "csrf": csrf_token(request.session), "error": error,
                "station": panel.line.config.id})

        @app.post("/login")
        def login(request: Request, name: str = Form(...), password: str = Form(...),
                  csrf: str = Form("")) -> Any:
            checked(request, csrf)
            role = panel.users.check(name, password)
            if role is None:
                return RedirectResponse("/login?error=wrong+name+or+password", status_code=303)
            request.session.clear()
            request.session["user"] = {"name": name, "role": role}
            csrf_token(request.session)
            return RedirectResponse("/", status_code=303)

        @app.post("/logout")
        def logout(request: Request, csrf: str = Form("")) -> Any:
            checked(request, csrf)
            request.session.clear()
            return RedirectResponse("/login", status_code=303)

        @app.get("/")
        def index(request: Request) -> Any:
            who = request.session.get("user")
            if not who:
                return RedirectResponse("/login", status_code=303)
            return templates.TemplateResponse(request, "panel.html", {
                "user": who, "csrf": csrf_token(request.session),
                "station": panel.line.config.id, "plan": panel.plan,
                "engineer": may(who["role"], "engineer"), "admin": may(who["role"], "admin")})

        @app.get("/state")
        def state(request: Request) -> Any:
            user(request)
            return panel.snapshot()

        @app.get("/events")
        async def events(request: Request) -> Any:
            user(request)
            client = panel.broadcast.add()

            async def stream() -> AsyncIterator[str]:
                try:
                    yield f"event: snapshot\ndata: {json.dumps(panel.snapshot(), default=str)}\n\n"
                    while True:
                        try:
                            yield await asyncio.wait_for(client[1].get(), KEEPALIVE_S)
                        except TimeoutError:
                            yield ": keepalive\n\n"
                finally:
                    panel.broadcast.remove(client)

            return StreamingResponse(stream(), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-store"})

        @app.post("/scan")
        def scan(request: Request, serial: str = Form(...), select: str = Form(""),
                 csrf: str = Form("")) -> Any:
            who = user(request)
            checked(request, csrf)
            return JSONResponse(panel.scan(serial, who["name"], who["role"], select))

        @app.post("/start")
        async def start(request: Request) -> Any:
            """The prompts' answers (checks as ``item-<id>=yes``, photos as ``photo-<id>``)."""
            from stations.panel.prompts import MAX_PHOTO_BYTES, Photo

            who = user(request)
            form = await request.form(max_part_size=MAX_PHOTO_BYTES + 1)
            checked(request, str(form.get("csrf", "")))
            answers = {k.removeprefix("item-"): str(v) for k, v in form.items()
                       if k.startswith("item-") and isinstance(v, str)}
            photos = {}
            for key, value in form.multi_items():
                if key.startswith("photo-") and not isinstance(value, str):
                    data = await value.read(MAX_PHOTO_BYTES + 1)
                    if data:
                        pid = key.removeprefix("photo-")
                        photos[pid] = Photo(pid, data, value.content_type or "")
            result = await asyncio.get_running_loop().run_in_executor(None, lambda: panel.start(
                str(form.get("serial", "")), who["name"], who["role"], str(form.get("select", "")),
                answers, photos))
            return JSONResponse(result)

        @app.post("/slots/{slot_id}/stop")
        def stop(request: Request, slot_id: str, csrf: str = Form("")) -> Any:
            user(request)
            checked(request, csrf)
            if slot_id not in panel.line.slots:
                raise HTTPException(404, "no such slot")
            return {"ok": panel.line.stop(slot_id)}

        @app.post("/slots/{slot_id}/abort")
        def abort(request: Request, slot_id: str, confirm: str = Form(""),
                  csrf: str = Form("")) -> Any:
            user(request, "engineer")
            checked(request, csrf)
            if confirm != "abort":
                raise HTTPException(400, "an abort needs its confirmation")
            if slot_id not in panel.line.slots:
                raise HTTPException(404, "no such slot")
            return {"ok": panel.line.abort(slot_id)}

        @app.post("/gate/check")
        def gate_check(request: Request, csrf: str = Form("")) -> Any:
            who = user(request, "engineer")
            checked(request, csrf)
            if panel.line.config.gate is None or panel.gate_running:
                return {"ok": False}
            panel.golden_check(who["name"])
            return {"ok": True}

        @app.get("/certificate/{run_id}")
        def certificate(request: Request, run_id: str) -> Any:
            user(request)
            path = panel.certificate(run_id)
            if path is None:
                raise HTTPException(404, "no certificate for that run on this panel")
            return FileResponse(path, media_type="application/pdf", filename=path.name)

        @app.get("/admin")
        def admin(request: Request) -> Any:
            who = user(request, "admin")
            return templates.TemplateResponse(request, "admin.html", {
                "user": who, "csrf": csrf_token(request.session), **panel.admin_view()})

        return app

    def admin_view(self) -> dict[str, Any]:
        """Keys and released limits (read-only here; changed with ``station keys``/``limits``)."""
        from reports.signing import SigningKeyError, fingerprint, load_or_create, station_key_path

        keys = []
        for view in self.line.views():
            path = station_key_path(view["station"], str(self.line.slots[view["id"]].station_file))
            try:
                keys.append((view["station"],
                             fingerprint(load_or_create(path, view["station"]).public_key())))
            except (SigningKeyError, OSError) as exc:
                keys.append((view["station"], f"unusable: {exc}"))
        released = (Path(__file__).resolve().parents[2] / "testplans" / "limits" /
                    "released.toml").read_text(encoding="utf-8")
        return {"keys": keys, "released": released, "station": self.line.config.id}


def serve(station_file: Path, out_dir: Path, host: str, port: int, **options: Any) -> None:
    import uvicorn

    panel = Panel(station_file, out_dir, **options)
    uvicorn.run(panel.app, host=host, port=port, log_level="warning")
