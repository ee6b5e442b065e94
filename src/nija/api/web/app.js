// NIJA web control center: plain JavaScript, no build step.
// The token lives in sessionStorage (gone when the tab closes) and travels only in the
// Authorization header; the event stream is read with fetch() because EventSource cannot
// send that header.
"use strict";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "nija.token";
let me = null;           // {name, role}
let status = null;       // the latest ApiStatusView (nija.views)
let policy = null;       // the live policy
let lastCode = null;     // {code, requestedAt} from this browser's own live request
let streamAbort = null;
let countdownTimer = null;
let messageTimer = null;

// The page's words for a fix: the button that does it (the API sends the fix as a
// FixAction code next to the command line's words, which are kept for unknown codes).
const BUTTON_FOR = {
  STATUS: "repair what Inconsistencies lists, with the buttons it names",
  RESTORE: "press \u201cRestore to DRY_RUN\u2026\u201d",
  RESET: "press \u201cReset to OFF\u2026\u201d, then \u201cRestore to DRY_RUN\u2026\u201d",
  KILL_ACTIVATE: "press \u201cSTOP ALL TRADING\u201d to record the stop",
  KILL_DEACTIVATE: "find the cause (see History), resolve it, then press \u201cDeactivate kill switch\u201d",
  KILL_DEACTIVATE_REASON: "type what was fixed, then press \u201cDeactivate kill switch\u201d",
  LIVE_REQUEST: "press \u201cRequest live trading\u201d",
  RESTART_SERVE: "restart \u2018nija serve\u2019 on its host, then reload this page",
};

function fixHere(action, fix) {
  return (action && BUTTON_FOR[action]) || fix || "";
}

// -- API ---------------------------------------------------------------------------
class ApiError extends Error {
  constructor(httpStatus, body) {
    const err = (body && body.error) || { code: "HTTP_" + httpStatus, message: "Request failed", fix: "" };
    super(err.message);
    this.httpStatus = httpStatus;
    this.code = err.code;
    this.fix = fixHere(err.action, err.fix);
  }
}

// Free text from the API (reasons, actors, names) may hold control characters or bidi
// overrides written into a file by hand: shown as visible escapes such as \x1b or \u202e,
// they cannot reorder or disguise the rest of the page (invariant 12). The u flag makes
// [\ud800-\udfff] match lone surrogates only, never a pair.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]/gu;

function escapeChar(c) {
  const code = c.codePointAt(0);
  return code < 0x100 ? "\\x" + code.toString(16).padStart(2, "0") : "\\u" + code.toString(16).padStart(4, "0");
}

function displayable(value) {
  if (typeof value === "string") return value.replace(UNSAFE, escapeChar);
  if (Array.isArray(value)) return value.map(displayable);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, displayable(v)]));
  }
  return value;
}

async function api(method, path, body) {
  const headers = { Authorization: "Bearer " + sessionStorage.getItem(TOKEN_KEY) };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = displayable(await res.json().catch(() => null));
  if (!res.ok) {
    if (res.status === 401) signOut();
    throw new ApiError(res.status, data);
  }
  return data;
}

function show(text, kind) {
  const box = $("message");
  box.textContent = text;
  box.className = "message " + (kind || "info");
  box.hidden = false;
  clearTimeout(messageTimer);
  if (kind === "ok") messageTimer = setTimeout(() => { box.hidden = true; }, 6000);  // errors stay until replaced
}

function showError(err) {
  const text = err instanceof ApiError
    ? `${err.message} (${err.code})${err.fix ? " — Fix: " + err.fix : ""}`
    : String(err);
  show(text, "error");
}

async function act(fn, done) {
  try {
    const result = await fn();
    if (done) show(done(result), "ok");
    return result;
  } catch (err) {
    showError(err);
    return null;
  }
}

// -- sign in -----------------------------------------------------------------------
async function signIn(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  try {
    me = await api("GET", "/api/whoami");
  } catch (err) {
    sessionStorage.removeItem(TOKEN_KEY);
    $("sign-in").hidden = false;
    showError(err);
    $("message").hidden = false;
    return;
  }
  $("sign-in").hidden = true;
  $("app").hidden = false;
  $("who").hidden = false;
  $("who-name").textContent = `${me.name} (${me.role})`;
  document.body.dataset.role = me.role;
  $("role-name").textContent = me.role;
  $("message").hidden = true;
  policy = await act(() => api("GET", "/api/live/policy"));
  renderPolicy();
  await refresh();
  connectEvents();
  route();
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  if (streamAbort) streamAbort.abort();
  me = null;
  $("app").hidden = true;
  $("who").hidden = true;
  $("sign-in").hidden = false;
}

// -- live updates ------------------------------------------------------------------
async function connectEvents() {
  if (streamAbort) streamAbort.abort();
  const controller = new AbortController();
  streamAbort = controller;
  try {
    const res = await fetch("/api/events", {
      headers: { Authorization: "Bearer " + sessionStorage.getItem(TOKEN_KEY) },
      signal: controller.signal,
    });
    if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
    setConnection(true);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      // sse-starlette ends lines with \r\n (the SSE spec allows \r\n, \r and \n): normalise
      // first, or no event boundary is ever found and nothing updates live.
      // A \r that ends a chunk waits for the next one: it may be half of a \r\n.
      buffer = (buffer + decoder.decode(value, { stream: true })).replace(/\r\n|\r(?!$)/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        handleEvent(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
      }
    }
  } catch (err) {
    if (controller.signal.aborted) return;
  }
  setConnection(false);
  if (me && streamAbort === controller) setTimeout(connectEvents, 1000);
}

function handleEvent(block) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).trim());
  }
  if (!data.length) return;
  const payload = displayable(JSON.parse(data.join("\n")));
  if (event === "status") renderStatus(payload);
  else if (event === "runtime") renderRuntime(payload);
  else if (event === "error") show(`${payload.message} — Fix: ${fixHere(payload.action, payload.fix)}`, "error");
}

function setConnection(up) {
  // "connected" describes the link to the server, never the trading mode.
  const el = $("connection");
  el.textContent = up ? "● connected" : "○ disconnected: reconnecting…";
  el.className = "conn " + (up ? "up" : "down");
  // Without the stream nothing on the page is current: grey it and say since when.
  document.body.classList.toggle("disconnected", !up && me !== null);
  $("state-stale").textContent = up || !status ? "" : `Not connected: as of ${when(status.checked_at)}, may be out of date.`;
  $("state-stale").hidden = up;
}

async function refresh() {
  const s = await act(() => api("GET", "/api/status"));
  if (s) renderStatus(s);
  const r = await act(() => api("GET", "/api/runtime"));
  if (r) renderRuntime(r);
}

// -- rendering ---------------------------------------------------------------------
function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "—";
}

function transitionItem(t) {
  const who = t.actor ? ` by ${t.actor}${t.source ? " via " + t.source : ""}` : "";
  return el("li", `${when(t.timestamp)}: ${t.from} → ${t.to}: ${t.reason}${who}`);
}

function renderStatus(s) {
  const previous = status;
  status = s;
  const notice = s.server_notice;
  $("server-notice").hidden = !notice;
  $("server-notice").textContent = notice ? `${notice.message}. Fix: ${fixHere(notice.action, notice.fix)}` : "";
  const state = $("state");
  state.textContent = s.state;
  state.className = "state s-" + s.state;
  // LIVE_ACTIVE is unmistakable on every page, verified or not: real money may be at risk.
  const live = s.state === "LIVE_ACTIVE";
  document.body.classList.toggle("live", live);
  document.body.classList.toggle("pending-live", s.state === "LIVE_PENDING_CONFIRMATION");
  $("live-frame").hidden = !live;
  $("live-badge").hidden = !live;
  // The bot started or stopped: fetch its report again so the freshness note follows.
  const wasAlive = previous && previous.bot ? previous.bot.alive : null;
  if (wasAlive !== null && wasAlive !== s.bot.alive) {
    act(() => api("GET", "/api/runtime")).then((r) => { if (r) renderRuntime(r); });
  }
  $("can-trade").textContent = s.can_trade ? `yes (${s.mode})` : `no: ${s.permission.reason}`;
  const k = s.kill_switch;
  $("kill-state").textContent = k.active ? "ACTIVE" : "inactive";
  $("bot").textContent = s.bot.alive
    ? `alive (pid ${s.bot.pid} on ${s.bot.host})`
    : s.bot.last_heartbeat ? `not alive (last heartbeat ${when(s.bot.last_heartbeat)})` : "not running";
  $("checked-at").textContent = when(s.checked_at);

  $("kill-banner").hidden = !k.active;
  $("kill-details").textContent = k.active
    ? `Reason: ${k.reason || "—"} · since ${when(k.since)} · by ${k.actor || "?"}${k.source ? " via " + k.source : ""}`
    : "";
  $("kill-form").hidden = k.active;
  $("deactivate-form").hidden = !k.active;
  document.body.classList.toggle("killed", k.active);

  const issues = $("inconsistencies");
  issues.replaceChildren();
  for (const i of s.inconsistencies) {
    const li = el("li");
    li.append(el("strong", i.code), el("span", " " + i.message), el("div", "Fix: " + fixHere(i.action, i.fix), "fix"));
    issues.append(li);
  }
  if (!s.inconsistencies.length) issues.append(el("li", "None", "ok"));

  const recent = $("recent-history");
  recent.replaceChildren(...s.recent_history.slice().reverse().map(transitionItem));
  renderLive();
}

// Numbers at a market's precision: money in cents, prices and sizes with as many decimals
// as they need (at most 8), so a float's tail never widens a phone's page.
function money(x) {
  return Number.isFinite(x) ? x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : "—";
}

function amount(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  const magnitude = Math.abs(x);
  const decimals = magnitude >= 1000 ? 2 : magnitude >= 1 ? 4 : 8;
  return x.toLocaleString("en-US", { maximumFractionDigits: decimals });
}

let runtime = null;        // the latest RuntimeOut
let runtimeAt = 0;         // when it arrived, by this browser's clock
let runtimeTimer = null;

function renderRuntime(r) {
  runtime = r;
  runtimeAt = Date.now();
  const box = $("runtime");
  box.replaceChildren();
  renderNotices(r.report);
  markStale();
  clearInterval(runtimeTimer);
  runtimeTimer = setInterval(markStale, 1000);  // a bot that stops sends nothing: age it here
  if (!r.report) {
    box.append(el("p", "No bot is running: no positions, orders or P&L to show.", "muted"));
    return;
  }
  const rep = r.report;
  box.append(el("p", `${rep.mode} via ${rep.broker}, updated ${when(rep.updated_at)}`, "muted"));
  const p = rep.pnl;
  box.append(el("p", `Equity ${money(p.equity)} · cash ${money(p.cash)} · realized ${money(p.realized)} · `
    + `unrealized ${money(p.unrealized)} · fees ${money(p.fees)}`));
  box.append(table(["Symbol", "Quantity", "Average", "Market", "Unrealized"], rep.positions.map((x) => [
    x.symbol, amount(x.quantity), amount(x.average_price), amount(x.market_price), money(x.unrealized_pnl)]),
  "No open positions"));
  box.append(table(["Order", "Symbol", "Side", "Type", "Quantity", "Price"], rep.open_orders.map((o) => [
    o.id, o.symbol, o.side, o.type, amount(o.quantity), o.price === null ? "market" : amount(o.price)]),
  "No open orders"));
  box.append(equityChart(rep.equity_curve || []));
  const fills = (rep.recent_fills || []).slice().reverse();  // newest first
  box.append(table(["Time", "Symbol", "Side", "Quantity", "Price", "Fee", "Realized"], fills.map((f) => [
    when(new Date(f.at * 1000).toISOString()), f.symbol, f.side, amount(f.quantity), amount(f.price), money(f.fee),
    money(f.realized)]), "No fills yet"));
  if (rep.dead_man_switch) box.append(el("p", `Dead man's switch: ${rep.dead_man_switch}`));
  if (rep.foreign_orders && rep.foreign_orders.length) {
    box.append(el("p", `${rep.foreign_orders.length} open order(s) on the account were not placed by this bot: left alone`,
      "muted"));
  }
  if (rep.kill_receipt) renderReceipt(box, rep.kill_receipt);
}

function renderReceipt(box, k) {
  const own = k.brokers.reduce((n, b) => n + b.own_open.length, 0);
  const foreign = k.brokers.reduce((n, b) => n + b.foreign_open.length, 0);
  const exposure = k.brokers.reduce((n, b) => n + b.residual_exposure, 0);
  const ok = k.confirmed && k.within_deadline;
  const head = ok ? `FLAT: confirmed by ${k.brokers.map((b) => b.broker).join(", ")} in ${k.seconds_to_flat.toFixed(3)} s`
    : `NOT CONFIRMED after ${k.deadline_s} s: ${own} own order(s) still open`;
  const p = el("p", `Kill receipt: ${head}; ${foreign} foreign order(s) left alone; residual exposure `
    + `${exposure.toFixed(2)} ${k.currency}`, ok ? "ok" : "warn");
  p.id = "kill-receipt";
  box.append(p);
}

// The run's equity after each fill as an inline SVG line: no chart library, no build step.
function equityChart(points) {
  const figure = el("figure", undefined, "equity");
  figure.id = "equity-chart";
  if (points.length < 2) {
    figure.append(el("figcaption", "Equity curve: drawn after the first fills.", "muted"));
    return figure;
  }
  const W = 600, H = 140, PAD = 4;
  const xs = points.map((p) => p.at), ys = points.map((p) => p.equity);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const sx = (x) => PAD + (x1 === x0 ? 0 : (x - x0) / (x1 - x0)) * (W - 2 * PAD);
  const sy = (y) => H - PAD - (y1 === y0 ? 0.5 : (y - y0) / (y1 - y0)) * (H - 2 * PAD);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Equity curve");
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", points.map((p) => `${sx(p.at).toFixed(1)},${sy(p.equity).toFixed(1)}`).join(" "));
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", "currentColor");
  line.setAttribute("stroke-width", "1.5");
  svg.append(line);
  figure.append(svg, el("figcaption", `Equity ${money(ys[0])} → ${money(ys[ys.length - 1])} `
    + `(low ${money(y0)}, high ${money(y1)}; ${points.length} fills shown)`, "muted"));
  return figure;
}

function markStale() {
  const r = runtime;
  const note = $("runtime-stale");
  if (!r || !r.report) {
    note.hidden = true;
    $("runtime-card").classList.remove("stale");
    return;
  }
  // The server's age plus the time since it answered: immune to a skewed browser clock.
  const age = r.age_s === null ? null : r.age_s + (Date.now() - runtimeAt) / 1000;
  const stale = r.stale || age === null || age > r.stale_after_s;
  let text = "";
  if (r.stopped_at) text = `Bot stopped at ${when(r.stopped_at)}: this is its last report, not current.`;
  else if (stale) text = age === null ? "STALE: the report's time cannot be read." : `STALE: updated ${Math.round(age)} s ago.`;
  note.textContent = text;
  note.hidden = !text;
  $("runtime-card").classList.toggle("stale", stale);
}

// Alerts first (they are the reason to look), then denials grouped by code, newest first.
function renderNotices(rep) {
  const box = $("notices");
  box.replaceChildren();
  if (!rep) {
    box.append(el("p", "No bot report: no alerts or denials.", "muted"));
    return;
  }
  const list = el("ul", undefined, "notices");
  for (const a of rep.alerts.slice().reverse()) {
    const li = el("li", undefined, "alert");
    li.append(el("strong", "ALERT " + a.code), el("span", ` ${when(a.timestamp)}: ${a.message}`));
    list.append(li);
  }
  const groups = new Map();
  for (const d of rep.denials) {
    const g = groups.get(d.code) || { code: d.code, count: 0, last: d };
    g.count += 1;
    if (d.timestamp >= g.last.timestamp) g.last = d;
    groups.set(d.code, g);
  }
  // The recent list is bounded: the run-wide count and last time come from the report's
  // denial_counts and denial_last (as bot_report.denial_groups does for the TUI).
  const counts = rep.denial_counts || {}, lastAt = rep.denial_last || {};
  for (const code of Object.keys(counts)) {
    if (!groups.has(code)) groups.set(code, { code, count: 0, last: { timestamp: "", message: "" } });
  }
  for (const g of groups.values()) {
    g.count = Math.max(g.count, counts[g.code] || 0);
    g.at = lastAt[g.code] || g.last.timestamp;
  }
  for (const g of [...groups.values()].sort((a, b) => (a.at < b.at ? 1 : -1))) {
    const li = el("li", undefined, "denial");
    const message = g.last.message ? `: ${g.last.message}` : "";
    li.append(el("strong", `DENIED ${g.code} ×${g.count}`), el("span", ` last ${when(g.at)}${message}`));
    list.append(li);
  }
  if (list.children.length) box.append(list);
  else box.append(el("p", "None", "ok"));
}

function table(head, rows, empty) {
  if (!rows.length) return el("p", empty, "muted");
  const wrap = el("div", undefined, "table-wrap");  // wide tables scroll inside their card
  const t = el("table");
  const tr = el("tr");
  head.forEach((h) => tr.append(el("th", h)));
  t.append(tr);
  for (const row of rows) {
    const r = el("tr");
    row.forEach((c) => r.append(el("td", String(c))));
    t.append(r);
  }
  wrap.append(t);
  return wrap;
}

function renderPolicy() {
  if (!policy) return;
  $("min-dry-run").textContent = String(policy.min_dry_run_minutes);
  $("window").textContent = String(policy.confirmation_minutes);
  $("phrase").textContent = policy.acknowledgment_phrase;
  $("second-person").hidden = !policy.require_second_person;
}

function renderLive() {
  if (!status) return;
  $("live-state").textContent = status.state;
  const pending = status.state === "LIVE_PENDING_CONFIRMATION" && status.pending_live;
  $("live-step-request").hidden = status.state !== "DRY_RUN";
  $("live-step-confirm").hidden = !pending;
  $("live-active").hidden = status.state !== "LIVE_ACTIVE";
  clearInterval(countdownTimer);
  if (pending) {
    $("live-pending").textContent = `Requested by ${pending.requested_by} at ${when(pending.requested_at)}`;
    const tick = () => {
      const left = Math.max(0, new Date(pending.expires_at) - Date.now());
      const m = Math.floor(left / 60000);
      const sec = Math.floor((left % 60000) / 1000);
      $("countdown").textContent = left ? `${m}:${String(sec).padStart(2, "0")}` : "expired";
    };
    tick();
    countdownTimer = setInterval(tick, 1000);
  }
  // Show the code only for the pending request this browser made (the event announcing
  // it may arrive before or after the request's own response).
  const mine = pending && lastCode && lastCode.requestedAt === pending.requested_at;
  $("live-code-box").hidden = !mine;
  $("live-code").textContent = mine ? lastCode.code : "";
}

async function showHistory() {
  const h = await act(() => api("GET", "/api/history?limit=200"));
  if (!h) return;
  $("history-transitions").replaceChildren(...h.transitions.slice().reverse().map(transitionItem));
  $("history-kills").replaceChildren(...h.kill_switch.slice().reverse().map((k) => el("li",
    `${when(k.timestamp)}: ${k.repeated ? "note (already active)" : k.action || "?"}: ${k.reason}${k.actor ? " by " + k.actor : ""}${k.source ? " via " + k.source : ""}`)));
}

// A command to paste on the host must run as shown, whatever the reason says.
function shellQuote(text) {
  return "'" + text.replace(/'/g, "'\\''") + "'";
}

// A kill that did not reach the server must never look like a kill: say in red that
// trading is NOT stopped, and how to stop it without this page.
async function killFromTheWeb(reason) {
  $("kill-failed").hidden = true;
  try {
    await api("POST", "/api/kill-switch/activate", { reason });
  } catch (err) {
    // The server says when the kill is in force all the same: never call that "not stopped".
    if (err instanceof ApiError && err.code === "KILL_ACTIVE_NOT_RECORDED") {
      show(`Kill switch IS ACTIVE (every order is refused), but not fully recorded: ${err.message}`, "error");
      return;
    }
    if (err instanceof ApiError && err.code === "KILL_IN_MEMORY_ONLY") {
      show(`Trading is stopped only in the memory of the running bot: ${err.message}`, "error");
      return;
    }
    const why = err instanceof ApiError
      ? `The server refused or failed the kill: ${err.message} (${err.code}).`
      : "The kill request did not reach the server (no connection).";
    $("kill-failed-why").textContent = why;
    $("kill-fallback-cli").textContent = `nija kill activate ${shellQuote(reason || "web kill failed")}`;
    $("kill-failed").hidden = false;
    show("TRADING IS NOT STOPPED: " + why, "error");
    return;
  }
  $("kill-reason").value = "";
  show("Kill switch activated: all trading is stopped", "ok");
}

// -- navigation --------------------------------------------------------------------
function route() {
  const view = (location.hash || "#dashboard").slice(1);
  for (const name of ["dashboard", "live", "history"]) {
    $("view-" + name).hidden = name !== view;
  }
  document.querySelectorAll(".tabs a").forEach((a) => a.classList.toggle("active", a.dataset.view === view));
  if (view === "history") showHistory();
}

// -- actions -----------------------------------------------------------------------
function confirmDialog(title, plan) {
  return new Promise((resolve) => {
    const dialog = $("confirm-dialog");
    $("confirm-title").textContent = title;
    $("confirm-path").textContent = plan.path;
    $("confirm-warnings").replaceChildren(...plan.warnings.map((w) => el("li", "Warning: " + w)));
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.showModal();
  });
}

async function runPlan(action, title) {
  const plan = await act(() => api("GET", `/api/${action}/plan`));
  if (!plan) return;
  if (plan.nothing_to_do) {
    show(`Nothing to do: already ${action === "restore" ? "DRY_RUN" : "OFF"}`, "info");
    return;
  }
  if (!(await confirmDialog(title, plan))) return;
  await act(() => api("POST", `/api/${action}`, { expected_path: plan.path }), (o) => `Done: ${o.before} → ${o.after}`);
}

function wire() {
  $("sign-in-form").addEventListener("submit", (e) => {
    e.preventDefault();
    signIn($("token").value.trim());
    $("token").value = "";
  });
  $("sign-out").addEventListener("click", signOut);
  $("kill-form").addEventListener("submit", (e) => {
    e.preventDefault();
    killFromTheWeb($("kill-reason").value);
  });
  $("deactivate-form").addEventListener("submit", (e) => {
    e.preventDefault();
    act(() => api("POST", "/api/kill-switch/deactivate", {
      reason: $("deactivate-reason").value,
      expected: status ? status.kill_switch.seen : null, // refused if a newer kill arrived
    }),
      () => "Kill switch deactivated: trading stays OFF until you restore").then((o) => {
      if (o) $("deactivate-reason").value = "";
    });
  });
  $("restore-button").addEventListener("click", () => runPlan("restore", "Restore to DRY_RUN (simulation)?"));
  $("reset-button").addEventListener("click", () => runPlan("reset", "Reset to OFF (no trading)?"));
  $("live-request").addEventListener("click", async () => {
    const r = await act(() => api("POST", "/api/live/request"), () => "Live trading requested: confirm before the code expires");
    if (r) {
      lastCode = { code: r.code, requestedAt: r.outcome.transitions[0].timestamp };
      $("live-code-input").value = r.code;
      renderLive();
    }
  });
  $("live-confirm-form").addEventListener("submit", (e) => {
    e.preventDefault();
    act(() => api("POST", "/api/live/confirm", { code: $("live-code-input").value, phrase: $("live-phrase").value }),
      () => "● LIVE TRADING ACTIVE").then((o) => { if (o) $("live-phrase").value = ""; });
  });
  $("live-cancel").addEventListener("click", () => {
    act(() => api("POST", "/api/live/cancel", {}), () => "Live request cancelled: back to DRY_RUN");
  });
  window.addEventListener("hashchange", route);
}

wire();
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) signIn(saved); else $("sign-in").hidden = false;
