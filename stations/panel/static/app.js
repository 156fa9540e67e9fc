// The operator panel: one scan field, a grid of slots, live over server-sent events.
// Plain JavaScript, no build step, no download: the floor PC has no internet.
"use strict";
(function () {
  const P = window.PANEL;
  const scan = document.getElementById("scan");
  const msg = document.getElementById("scan-msg");
  const grid = document.getElementById("slots");
  const gateBox = document.getElementById("gate");
  const slots = {};

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  async function post(url, fields) {
    const body = new URLSearchParams({csrf: P.csrf, ...fields});
    const r = await fetch(url, {method: "POST", body, headers: {"X-CSRF-Token": P.csrf}});
    if (!r.ok) throw new Error((await r.json().catch(() => ({}))).detail || r.statusText);
    return r.json();
  }

  // the scanner types the serial and Enter: checked at once, then a free slot runs it
  document.getElementById("scan-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const serial = scan.value.trim();
    scan.value = "";
    if (!serial) return;
    const select = document.getElementById("select");
    try {
      const r = await post("/scan", {serial, select: select ? select.value : ""});
      if (r.ok && r.ask) { ask(r.serial, r.ask, select ? select.value : ""); return; }
      prompts.hidden = true;
      msg.className = r.ok ? "msg ok" : "msg error";
      msg.textContent = r.ok ? `${r.serial}: testing in slot ${r.slot}` : r.error;
    } catch (e) { msg.className = "msg error"; msg.textContent = String(e.message || e); }
    scan.focus();
  });
  // the plan's prompts: every required check confirmed, the photos attached, then Start
  const prompts = document.getElementById("prompts");
  function ask(serial, items, select) {
    prompts.replaceChildren();
    prompts.append(el("h2", {}, `Before the test of ${serial}`));
    for (const it of items) {
      const req = it.required ? el("span", {class: "req"}, " (required)") : el("span", {class: "opt"}, " (optional)");
      if (it.kind === "photo") {
        prompts.append(el("label", {class: "prompt photo"}, el("span", {class: "kind"}, "PHOTO"), ` ${it.text}`, req,
          el("input", {type: "file", accept: "image/jpeg,image/png,image/webp", capture: "environment",
                       name: `photo-${it.id}`, id: `photo-${it.id}`})));
      } else {
        prompts.append(el("label", {class: `prompt ${it.kind}`},
          el("input", {type: "checkbox", name: `item-${it.id}`, value: "yes", id: `item-${it.id}`}),
          el("span", {class: "kind"}, it.kind === "connect" ? "CONNECT" : "CHECK"), ` ${it.text}`, req));
      }
    }
    const pmsg = el("p", {class: "msg", id: "prompts-msg", role: "status"});
    prompts.append(pmsg);
    prompts.append(el("button", {type: "submit", id: "prompts-start", class: "start"}, "Start the test"),
                   el("button", {type: "button", id: "prompts-cancel", onclick: () => {
                     prompts.hidden = true; msg.className = "msg"; msg.textContent = `${serial}: not started`; scan.focus();
                   }}, "Cancel"));
    prompts.onsubmit = async (ev) => {
      ev.preventDefault();
      const body = new FormData(prompts);
      body.append("csrf", P.csrf); body.append("serial", serial); body.append("select", select);
      try {
        const r = await fetch("/start", {method: "POST", body, headers: {"X-CSRF-Token": P.csrf}});
        const d = await r.json();
        if (!r.ok) throw new Error(d.detail || r.statusText);
        if (!d.ok) { pmsg.className = "msg error"; pmsg.textContent = d.error; return; }
        prompts.hidden = true;
        msg.className = "msg ok"; msg.textContent = `${d.serial}: testing in slot ${d.slot}`;
        scan.focus();
      } catch (e) { pmsg.className = "msg error"; pmsg.textContent = String(e.message || e); }
    };
    msg.className = "msg"; msg.textContent = `${serial}: answer the prompts, then Start`;
    prompts.hidden = false;
    const first = prompts.querySelector("input");
    if (first) first.focus();
  }

  // Enter ends a scan, whatever else the form holds (the engineer's step selection)
  scan.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") { ev.preventDefault(); document.getElementById("scan-form").requestSubmit(); }
  });
  // the scan field keeps the focus: a scanner types wherever the focus is
  document.addEventListener("click", (ev) => {
    if (!ev.target.closest("input, button, a, select, textarea")) scan.focus();
  });

  function words(f) {
    if (!f) return "";
    const d = f.detail;
    if (d) {
      const what = d.description || d.name;
      const value = d.value !== "" ? `measured ${d.value} ${d.unit}`.trim() : d.message;
      return `${what}: ${value}, allowed ${d.limit}` + (f.step ? ` (step ${f.step})` : "");
    }
    return (f.step ? `step ${f.step}: ` : "") + (f.message || "");
  }

  function renderSlot(v) {
    const s = slots[v.id] || (slots[v.id] = {});
    s.view = v;
    const box = el("section", {class: `slot ${v.status}`, id: `slot-${v.id}`, "data-status": v.status});
    box.append(el("h2", {}, `Slot ${v.id} `, el("span", {class: "status"}, v.status)));
    const run = v.run || {};
    if (run.serial) box.append(el("p", {class: "serial"}, `${run.serial} · ${run.plan || ""} ${run.model ? "· " + run.model : ""}`));
    const last = v.measurements.length ? v.measurements[v.measurements.length - 1] : null;
    if (v.status === "testing" || v.status === "stopping") {
      box.append(el("p", {class: "step"}, "Step: ", el("b", {class: "step-name"}, v.step || "starting")));
      const t = last ? last.t : 0;
      box.append(el("p", {class: "time"}, `elapsed ${t.toFixed(1)} s` + (run.expected_s ? ` of about ${run.expected_s} s` : "")));
      const bar = el("div", {class: "bar"}, el("div", {class: "fill", style: `width:${run.expected_s ? Math.min(100, 100 * t / run.expected_s) : 0}%`}));
      box.append(bar);
      box.append(el("canvas", {class: "trace", id: `trace-${v.id}`, width: 480, height: 150}));
      box.append(el("button", {class: "stop", id: `stop-${v.id}`, onclick: () => post(`/slots/${v.id}/stop`, {})}, "Stop"));
      if (P.engineer) box.append(el("button", {class: "abort", id: `abort-${v.id}`, onclick: () => {
        if (window.confirm(`Abort the run in slot ${v.id} at once? (the bench goes safe, the run is recorded ABORTED)`))
          post(`/slots/${v.id}/abort`, {confirm: "abort"});
      }}, "Abort"));
    }
    const r = v.result;
    if (r && v.status !== "testing") {
      const verdict = r.verdict || "NOT RUN";
      const big = el("div", {class: `verdict ${verdict}`, id: `verdict-${v.id}`}, verdict);
      box.append(big);
      if (r.refused) box.append(el("p", {class: "why"}, `refused: ${r.refused}`));
      if (verdict !== "PASS" && r.failure) box.append(el("p", {class: "why", id: `why-${v.id}`}, words(r.failure)));
      if (r.retest_index !== undefined && r.retest_index !== null)
        box.append(el("p", {class: "retest"}, r.retest_index ? `retest ${r.retest_index} of this serial` : "first test of this serial"));
      if (r.safe) box.append(el("p", {class: r.safe.ok ? "safe" : "unsafe", id: `safe-${v.id}`},
        r.safe.ok ? "bench safe" : `SAFE STATE NOT CONFIRMED: ${JSON.stringify(r.safe.errors)}`));
      if (r.certificate_path) box.append(el("a", {href: `/certificate/${r.run_id}`, class: "cert", target: "_blank"}, "certificate"));
    }
    if (v.note) box.append(el("p", {class: "note"}, v.note));
    const table = el("table", {class: "measurements"});
    table.append(el("tr", {}, el("th", {}, "measurement"), el("th", {}, "value"), el("th", {}, "limits"), el("th", {}, "")));
    box.append(el("div", {class: "mbox"}, table));
    s.table = table;
    for (const m of v.measurements) addRow(s, m, false);
    const old = document.getElementById(`slot-${v.id}`);
    if (old) old.replaceWith(box); else grid.append(box);
    s.box = box;
    drawTrace(s);
  }

  // the voltages and currents of the step now running (or the last step that measured
  // any, until the next one does) over station time: one series per declared unit
  // (V, mV, A, mA), the first on the left axis, the second on the right
  const PLOTTED = ["V", "mV", "A", "mA"];
  const COLOURS = ["#1e6bd6", "#c77700"];
  function drawTrace(s) {
    const c = s.box && s.box.querySelector("canvas.trace");
    if (!c) return;
    const ms = s.view.measurements.filter((m) => PLOTTED.includes(m.unit) && m.value !== "" && isFinite(Number(m.value)));
    const step = ms.length ? ms[ms.length - 1].step : s.view.step;
    const pts = ms.filter((m) => m.step === step).map((m) => ({t: m.t, unit: m.unit, y: Number(m.value)}));
    const units = [...new Set(pts.map((p) => p.unit))].slice(0, 2);
    c.dataset.step = step || ""; c.dataset.points = String(pts.filter((p) => units.includes(p.unit)).length);
    c.dataset.units = units.join(" ");
    const g = c.getContext("2d"), W = c.width, H = c.height, L = 58, R = 58, T = 16, B = 20;
    g.fillStyle = "#fff"; g.fillRect(0, 0, W, H);
    g.strokeStyle = "#999"; g.strokeRect(L, T, W - L - R, H - T - B);
    g.fillStyle = "#333"; g.font = "11px sans-serif";
    g.fillText(step ? `step ${step}: ${units.join(" and ") || "nothing in V or A"} measured` : "no step yet", L, 11);
    if (!units.length) return;
    const t0 = Math.min(...pts.map((p) => p.t)), t1 = Math.max(...pts.map((p) => p.t), t0 + 1);
    const x = (t) => L + (W - L - R) * (t - t0) / (t1 - t0);
    g.fillText(`${t0.toFixed(0)} s`, L, H - 6); g.fillText(`${t1.toFixed(0)} s`, W - R - 30, H - 6);
    units.forEach((unit, k) => {
      const qs = pts.filter((p) => p.unit === unit);
      let lo = Math.min(...qs.map((p) => p.y)), hi = Math.max(...qs.map((p) => p.y));
      if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
      const y = (v) => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
      g.strokeStyle = COLOURS[k]; g.fillStyle = COLOURS[k]; g.beginPath();
      qs.forEach((p, i) => (i ? g.lineTo(x(p.t), y(p.y)) : g.moveTo(x(p.t), y(p.y))));
      g.stroke();
      for (const p of qs) { g.beginPath(); g.arc(x(p.t), y(p.y), 3, 0, 2 * Math.PI); g.fill(); }
      const ax = k ? W - R + 3 : 2;
      g.fillText(`${hi.toPrecision(4)} ${unit}`, ax, T + 8); g.fillText(`${lo.toPrecision(4)} ${unit}`, ax, H - B);
    });
  }

  function addRow(s, m, live) {
    if (m.outcome === "NOT_RUN") return;
    const row = el("tr", {class: m.outcome}, el("td", {title: m.name}, m.description || m.name),
      el("td", {}, `${m.value} ${m.unit}`.trim()), el("td", {}, m.limit), el("td", {class: "o"}, m.outcome));
    s.table.insertBefore(row, s.table.rows[1] || null);   // newest on top
    if (live && s.box) {
      s.view.step = m.step;
      drawTrace(s);
      const step = s.box.querySelector(".step-name");
      if (step) step.textContent = m.step;
      const time = s.box.querySelector(".time");
      const run = s.view.run || {};
      if (time) time.textContent = `elapsed ${m.t.toFixed(1)} s` + (run.expected_s ? ` of about ${run.expected_s} s` : "");
      const fill = s.box.querySelector(".fill");
      if (fill && run.expected_s) fill.style.width = `${Math.min(100, 100 * m.t / run.expected_s)}%`;
    }
  }

  function renderGate(g) {
    if (g.ok && !g.running) { gateBox.hidden = true; document.body.classList.remove("blocked"); return; }
    gateBox.hidden = false;
    gateBox.replaceChildren();
    document.body.classList.toggle("blocked", !g.ok);
    gateBox.append(el("h2", {}, g.running ? "Golden-unit check running…" : "STATION BLOCKED: no production runs"));
    const ul = el("ul", {class: "reasons"});
    for (const r of g.reasons) ul.append(el("li", {}, r));
    gateBox.append(ul);
    const todo = el("ul", {class: "actions"});
    for (const a of g.actions) todo.append(el("li", {}, "What to do: " + a));
    gateBox.append(todo);
    if (P.engineer && g.golden && !g.running)
      gateBox.append(el("button", {id: "golden", onclick: () => post("/gate/check", {})}, "Run the golden-unit check"));
  }

  const events = new EventSource("/events");
  events.addEventListener("snapshot", (e) => {
    const d = JSON.parse(e.data);
    grid.replaceChildren();
    for (const k of Object.keys(slots)) delete slots[k];
    for (const v of d.slots) renderSlot(v);
    renderGate(d.gate);
    document.body.dataset.ready = "1";
  });
  events.addEventListener("slot", (e) => renderSlot(JSON.parse(e.data)));
  events.addEventListener("gate", (e) => renderGate(JSON.parse(e.data)));
  events.addEventListener("measurement", (e) => {
    const m = JSON.parse(e.data);
    const s = slots[m.slot];
    if (!s) return;
    s.view.measurements.push(m);
    addRow(s, m, true);
  });
  scan.focus();
})();
