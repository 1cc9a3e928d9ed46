// Causeway's web page: the list of experiments and one experiment's report.
//
// One document (index.html) is served for every page path; this script renders
// what the path names. Data comes only from the JSON API, sent the admin key the
// page asked for once and keeps in sessionStorage (never in a URL). Every field of
// the report is read defensively: a field a server does not send yet, or null,
// renders as "—" or an empty state, never as an error. Charts use Observable Plot
// (global `Plot`, with `d3`), both embedded in the binary (docs/web.md).
"use strict";

(() => {
  const KEY_STORAGE = "causeway.admin_key";
  const main = document.getElementById("main");

  // ---------------------------------------------------------------- DOM helpers
  // el("tag.class", {attr: value, onclick: fn}, child, "text", ...): text is
  // always inserted as text, never parsed as HTML.
  function el(spec, attrs, ...children) {
    const [tag, ...classes] = spec.split(".");
    const node = document.createElement(tag || "div");
    if (classes.length) node.className = classes.join(" ");
    if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
      children.unshift(attrs);
      attrs = null;
    }
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    append(node, ...children);
    return node;
  }
  function append(node, ...children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  function clear(node) {
    while (node.firstChild) node.firstChild.remove();
    return node;
  }

  // ----------------------------------------------------------------- formatting
  const DASH = "—";
  const isNum = (x) => typeof x === "number" && Number.isFinite(x);
  const intFmt = new Intl.NumberFormat("en-US");
  const fmtInt = (x) => (isNum(x) ? intFmt.format(Math.round(x)) : DASH);
  function fmtNum(x) {
    if (!isNum(x)) return DASH;
    const a = Math.abs(x);
    if (a !== 0 && (a < 0.001 || a >= 1e6)) return x.toExponential(2);
    return x.toLocaleString("en-US", {maximumSignificantDigits: 4});
  }
  function fmtSigned(x) {
    if (!isNum(x)) return DASH;
    return (x > 0 ? "+" : x < 0 ? "−" : "") + fmtNum(Math.abs(x));
  }
  function fmtPct(x, digits = 1) {
    if (!isNum(x)) return DASH;
    const v = x * 100;
    const s = Math.abs(v) >= 100 ? Math.abs(v).toFixed(0) : Math.abs(v).toFixed(digits);
    return (v > 0 ? "+" : v < 0 ? "−" : "") + s + " %";
  }
  function fmtP(p) {
    if (!isNum(p)) return DASH;
    if (p < 0.001) return "< 0.001";
    return p.toFixed(3);
  }
  function fmtInterval(ci, pct) {
    if (!ci || !isNum(ci.lower) || !isNum(ci.upper)) {
      if (ci && (ci.lower === null || ci.upper === null)) return "unbounded";
      return DASH;
    }
    const f = pct ? fmtPct : fmtSigned;
    return `${f(ci.lower)} … ${f(ci.upper)}`;
  }
  function fmtDate(iso) {
    if (!iso) return DASH;
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }
  const words = (s) => (typeof s === "string" ? s.replace(/_/g, " ") : DASH);

  // --------------------------------------------------------------------- API
  class ApiError extends Error {
    constructor(status, message, field) {
      super(message);
      this.status = status;
      this.field = field;
    }
  }
  function adminKey() {
    return sessionStorage.getItem(KEY_STORAGE);
  }
  async function api(path, key = adminKey()) {
    const res = await fetch(path, {
      headers: {Authorization: `Bearer ${key || ""}`, Accept: "application/json"},
      cache: "no-store",
    });
    let body = null;
    try {
      body = await res.json();
    } catch (_) {
      body = null;
    }
    if (!res.ok) {
      const e = (body && body.error) || {};
      throw new ApiError(res.status, e.message || `HTTP ${res.status}`, e.field);
    }
    return body;
  }
  // Runs fn over items with at most `limit` requests in flight.
  async function mapLimited(items, limit, fn) {
    const out = new Array(items.length);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const i = next++;
        try {
          out[i] = await fn(items[i]);
        } catch (e) {
          out[i] = e;
        }
      }
    };
    await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker));
    return out;
  }

  // ------------------------------------------------------------------- states
  function showError(container, err, title = "Could not load") {
    append(clear(container), el("section.card.callout.bad", el("h2", title), el("p", err.message || String(err))));
  }
  function keyForm(message) {
    stopRefresh();
    document.getElementById("session").hidden = true;
    const form = document.getElementById("key-form").content.cloneNode(true);
    clear(main).append(form);
    const error = document.getElementById("key-error");
    if (message) {
      error.textContent = message;
      error.hidden = false;
    }
    const input = document.getElementById("key-input");
    input.focus();
    document.getElementById("key").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const key = input.value.trim();
      error.hidden = true;
      try {
        await api("/v1/experiments", key);
      } catch (e) {
        error.textContent =
          e.status === 401 ? "Unknown, expired or revoked key." :
          e.status === 403 ? "That is an sdk key; the page needs an admin key." : e.message;
        error.hidden = false;
        return;
      }
      sessionStorage.setItem(KEY_STORAGE, key);
      route();
    });
  }
  // A 401 while browsing: the key was revoked or expired.
  function handleAuth(err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      sessionStorage.removeItem(KEY_STORAGE);
      keyForm(err.status === 401 ? "The key is no longer valid; enter an admin key." : err.message);
      return true;
    }
    return false;
  }

  // ------------------------------------------------------------- badges
  const STATUS_CLASS = {running: "good", draft: "neutral", stopped: "neutral", paused: "warn"};
  const statusPill = (s) => el(`span.pill.${STATUS_CLASS[s] || "neutral"}`, words(s || "unknown"));

  // The health of an experiment from its exposures summary (cheap: one SQL summary).
  function health(exposures) {
    if (exposures instanceof Error) return {cls: "neutral", text: "unknown", title: exposures.message};
    const total = exposures && exposures.total_exposures;
    if (!isNum(total) || total === 0) return {cls: "neutral", text: "No exposures", title: "no exposure in the current phase"};
    const srm = exposures.srm || {};
    if (srm.valid && srm.mismatch) {
      return {cls: "bad", text: `SRM p ${fmtP(srm.p_value)}`, title: "sample ratio mismatch: users per variant do not match the weights"};
    }
    const multi = exposures.multi_variant_users;
    const users = exposures.unique_users;
    if (isNum(multi) && isNum(users) && users > 0 && multi / users > 0.01) {
      return {cls: "warn", text: `${fmtPct(multi / users).replace("+", "")} multi-variant`, title: `${fmtInt(multi)} users seen in several variants (excluded)`};
    }
    return {cls: "good", text: "Healthy", title: srm.valid ? `SRM p = ${fmtP(srm.p_value)}` : ""};
  }

  // The monitors' verdict (GET /v1/experiments/{key}/health): "unknown" means the
  // monitors have not evaluated the experiment yet, and reads neutrally.
  const MONITOR_HEALTH = {
    healthy: {cls: "good", label: "Monitors OK"},
    warning: {cls: "warn", label: "Warning"},
    unhealthy: {cls: "bad", label: "Alert"},
    unknown: {cls: "neutral", label: "Not evaluated"},
  };
  function monitorName(m) {
    const s = String(m || "");
    if (s.startsWith("guardrail:")) return `guardrail ${s.slice(10)}`;
    return {srm: "SRM", no_traffic: "no traffic", multi_exposure: "multiple exposures"}[s] || words(s);
  }
  function monitorBadge(h) {
    if (h instanceof Error) {
      return el("span.badge.neutral.monitor-health", {dataset: {status: "error"}, title: h.message}, DASH);
    }
    const status = MONITOR_HEALTH[h && h.status] ? h.status : "unknown";
    const k = MONITOR_HEALTH[status];
    const monitors = (h && Array.isArray(h.monitors)) ? h.monitors : [];
    const firing = monitors.filter((m) => m && m.state === "firing").map((m) => monitorName(m.monitor));
    const pending = monitors.filter((m) => m && m.state === "pending").map((m) => monitorName(m.monitor));
    const text = status === "unhealthy" && firing.length ? `${k.label}: ${firing.length > 1 ? `${firing.length} monitors` : firing[0]}` :
      status === "warning" && pending.length === 1 ? `${k.label}: ${pending[0]}` : k.label;
    const title = status === "unknown" ? "the monitors have not evaluated this experiment yet" :
      [firing.length ? `firing: ${firing.join(", ")}` : null, pending.length ? `pending: ${pending.join(", ")}` : null,
        isNum(h.evaluated_at_ms) ? `evaluated ${fmtDate(new Date(h.evaluated_at_ms).toISOString())}` : null].filter(Boolean).join("; ");
    return el(`span.badge.${k.cls}.monitor-health`, {dataset: {status}, title}, text);
  }

  const DECISIONS = {
    ship: {cls: "good", label: "Ship"},
    stop_harm: {cls: "bad", label: "Stop: harm"},
    do_not_ship: {cls: "bad", label: "Do not ship"},
    keep_running: {cls: "neutral", label: "Keep running"},
    no_effect: {cls: "warn", label: "No effect"},
    invalid_srm: {cls: "bad", label: "Invalid: SRM"},
    investigate: {cls: "bad", label: "Investigate"},
  };
  const CONCLUSIONS = {
    better: {cls: "good", label: "Better"},
    worse: {cls: "bad", label: "Worse"},
    inconclusive: {cls: "neutral", label: "Inconclusive"},
    insufficient_data: {cls: "muted", label: "Insufficient data"},
  };
  const COLORS = {better: "#15803d", worse: "#b91c1c", inconclusive: "#64748b", insufficient_data: "#cbd5e1"};
  const VARIANT_COLORS = ["#2563eb", "#d97706", "#7c3aed", "#0d9488", "#db2777", "#65a30d"];
  const conclusionChip = (c) => {
    const k = CONCLUSIONS[c] || {cls: "muted", label: words(c || "—")};
    return el(`span.chip.${k.cls}`, k.label);
  };

  // ------------------------------------------------------------------ list page
  async function renderList() {
    const section = el("section.card",
      el("div.section-head", el("h1", "Experiments"),
        el("input.filter", {type: "search", placeholder: "Filter by name or key", "aria-label": "Filter experiments"})),
      el("p.muted", "Loading…"));
    clear(main).append(section);
    let list;
    try {
      list = await api("/v1/experiments");
    } catch (e) {
      if (!handleAuth(e)) showError(main, e);
      return;
    }
    const experiments = Array.isArray(list) ? list : (list && list.experiments) || [];
    section.querySelector("p").remove();
    if (experiments.length === 0) {
      section.append(el("div.empty", el("p", "No experiments yet."),
        el("p.muted", "Create one with POST /v1/experiments, or try `causeway simulate` (README)."))); 
      return;
    }
    const order = {running: 0, draft: 1, paused: 2, stopped: 3};
    experiments.sort((a, b) => (order[a.status] ?? 9) - (order[b.status] ?? 9) || String(a.key).localeCompare(String(b.key)));
    const rows = experiments.map((x) => {
      const variants = Array.isArray(x.variants) ? x.variants : [];
      const row = el("tr", {dataset: {key: x.key}},
        el("td", el("a.exp-name", {href: `/experiments/${encodeURIComponent(x.key)}`}, x.name || x.key),
          x.name && x.name !== x.key ? el("div.muted.small.mono", x.key) : null),
        el("td", statusPill(x.status)),
        el("td.small", variants.map((v) => v.key).join(" · ") || DASH),
        el("td.num.users", el("span.muted", "…")),
        el("td.health", el("span.muted", "…")),
        el("td.monitors", el("span.muted", "…")),
        el("td.small.muted", isNum(x.phase) && x.phase > 1 ? `phase ${x.phase}` : ""));
      row._experiment = x;
      return row;
    });
    const table = el("table.list",
      el("thead", el("tr", el("th", "Experiment"), el("th", "Status"), el("th", "Variants"),
        el("th.num", "Exposed users"), el("th", {title: "users per variant (SRM) and multiple exposures"}, "Health"),
        el("th", {title: "the monitors' last evaluation: SRM, guardrails, traffic, multiple exposures"}, "Monitors"), el("th", ""))),
      el("tbody", rows));
    section.append(table);
    section.querySelector("input.filter").addEventListener("input", (ev) => {
      const q = ev.target.value.trim().toLowerCase();
      for (const r of rows) {
        const x = r._experiment;
        r.hidden = q !== "" && !`${x.key} ${x.name || ""}`.toLowerCase().includes(q);
      }
    });
    // One summary and one health request per experiment, at most six in flight.
    await mapLimited(experiments, 6, async (x) => {
      const row = rows[experiments.indexOf(x)];
      const enc = encodeURIComponent(x.key);
      const [s, monitors] = await Promise.all([
        api(`/v1/experiments/${enc}/exposures`).catch((e) => e),
        api(`/v1/experiments/${enc}/health`).catch((e) => e),
      ]);
      const h = health(s);
      clear(row.querySelector(".health")).append(el(`span.badge.${h.cls}`, {title: h.title}, h.text));
      const users = s instanceof Error ? null : s && s.unique_users;
      clear(row.querySelector(".users")).append(fmtInt(users));
      clear(row.querySelector(".monitors")).append(monitorBadge(monitors));
    });
  }

  // ---------------------------------------------------------------- report page
  const ROLE_TITLES = {goal: "Goal metrics", secondary: "Secondary metrics", guardrail: "Guardrails", other: "Other metrics"};
  const ROLE_ORDER = ["goal", "secondary", "guardrail", "other"];

  function hashState() {
    const p = new URLSearchParams(location.hash.slice(1));
    return {segment: p.get("segment") || "", metric: p.get("metric") || "", scale: p.get("scale") || ""};
  }
  function setHashState(state) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(state)) if (v) p.set(k, v);
    const h = p.toString();
    history.replaceState(null, "", h ? `#${h}` : location.pathname);
  }

  // The interval the decision uses (sequential) when present, else the fixed-horizon one.
  function decisionInference(cmp, scale) {
    const seq = cmp && cmp.sequential;
    const s = seq && seq[scale];
    if (s && s.ci) return {inf: s, sequential: true};
    return {inf: cmp && cmp[scale], sequential: false};
  }
  function pValue(cmp) {
    const seq = (cmp && cmp.sequential) || {};
    for (const p of [seq.p_value_adjusted, seq.p_value, cmp && cmp.p_value_adjusted, cmp && cmp.p_value]) {
      if (isNum(p)) return p;
    }
    return null;
  }
  const metricLabel = (m) => m.name && m.name !== m.metric ? m.name : m.metric;
  const roleOf = (m) => (ROLE_TITLES[m.role] ? m.role : "other");
  function variantValue(m, variant) {
    const v = (m.variants || []).find((x) => x && (x.variant ?? x.key) === variant);
    if (!v) return null;
    for (const k of ["mean", "value", "rate", "estimate"]) if (isNum(v[k])) return v[k];
    return null;
  }
  // A variant's value: a conversion rate as a percentage, anything else as a number.
  function fmtValue(m, x) {
    if (m.type === "binomial" && isNum(x)) return `${(x * 100).toFixed(x < 0.1 ? 2 : 1)} %`;
    return fmtNum(x);
  }
  function marginText(m) {
    if (!isNum(m.margin)) return null;
    const better = m.higher_is_better !== false;
    return `may not ${better ? "fall" : "rise"} by more than ${(m.margin * 100).toLocaleString("en-US", {maximumFractionDigits: 2})} %`;
  }

  async function renderReport(key) {
    const state = hashState();
    const page = el("div.report");
    clear(main).append(page);
    page.append(el("p.muted", "Loading report…"));
    const enc = encodeURIComponent(key);
    const [config, report, monitors] = await Promise.all([
      api(`/v1/experiments/${enc}`).catch((e) => e),
      api(`/v1/experiments/${enc}/report`).catch((e) => e),
      api(`/v1/experiments/${enc}/health`).catch((e) => e),
    ]);
    if (report instanceof Error) {
      if (!handleAuth(report)) showError(page, report, `Could not load the report of ${key}`);
      return;
    }
    const cfg = config instanceof Error ? {} : config || {};
    clear(page);
    const metrics = Array.isArray(report.metrics) ? report.metrics : [];
    const treatments = treatmentsOf(report, metrics);

    append(page, headerSection(key, cfg, report, monitors), decisionSection(report, treatments),
      healthSection(monitors), notesSection(report), summarySection(report));

    const metricsCard = el("section.card", el("div.section-head", el("h2", "Metrics"), el("span.muted.small", intervalNote(report))));
    metricsCard.append(metricsTable(metrics, report));
    page.append(metricsCard);

    const forest = el("section.card", el("div.section-head", el("h2", "Relative lift"),
      el("span.muted.small", "point estimate and interval per metric and treatment; dashed: guardrail margin")));
    const forestChart = el("div.chart", {id: "forest"});
    forest.append(forestChart);
    page.append(forest);
    drawForest(forestChart, metrics);

    append(page, seriesSection(metrics, state), segmentSection(key, report, metrics, state), qualitySection(report));
  }

  function treatmentsOf(report, metrics) {
    const names = new Set();
    for (const d of report.decisions || []) if (d && d.variant) names.add(d.variant);
    for (const m of metrics) for (const c of m.comparisons || []) if (c && c.variant) names.add(c.variant);
    if (names.size === 0) {
      for (const e of report.exposures || []) if (e && e.variant !== report.control) names.add(e.variant);
    }
    return [...names];
  }

  function headerSection(key, cfg, report, monitors) {
    const since = report.since ? `since ${fmtDate(report.since)}` : null;
    return el("section.head",
      el("div",
        el("a.back.small", {href: "/experiments"}, "← Experiments"),
        el("h1", cfg.name || key),
        el("div.meta", el("span.mono", key), statusPill(report.status || cfg.status),
          isNum(report.phase) ? el("span", `phase ${report.phase}`) : null, since ? el("span", since) : null,
          report.control ? el("span", `control: ${report.control}`) : null,
          monitors instanceof Error ? null : monitorBadge(monitors))),
      el("div.head-actions", el("button.link", {type: "button", onclick: () => route()}, "↻ Refresh")));
  }

  function decisionSection(report, treatments) {
    const decisions = Array.isArray(report.decisions) ? report.decisions : [];
    const section = el("section.decisions");
    if (decisions.length === 0) {
      section.append(el("div.decision.neutral", el("span.decision-label", "No decision"),
        el("span.decision-why", "This report carries no decision.")));
      return section;
    }
    for (const d of decisions) {
      const k = DECISIONS[d.decision] || {cls: "neutral", label: words(d.decision)};
      section.append(el(`div.decision.${k.cls}`, {dataset: {decision: d.decision || ""}},
        el("span.decision-variant", treatments.length > 1 || d.variant ? d.variant || "" : ""),
        el("span.decision-label", k.label),
        el("span.decision-why", d.why || DASH),
        d.rule ? el("span.decision-rule.mono", {title: "the rule that produced this decision"}, d.rule) : null));
    }
    return section;
  }

  // The monitors' states and the experiment's recent alerts (last 7 days).
  function healthSection(h) {
    if (h instanceof Error) {
      if (h.status === 404 || h.status === 405) return null;  // a server without monitors
      return el("section.card.health", {id: "health"}, el("h2", "Monitors"), el("p.muted", `Could not read the health: ${h.message}`));
    }
    const monitors = Array.isArray(h.monitors) ? h.monitors : [];
    const alerts = Array.isArray(h.recent_alerts) ? h.recent_alerts : [];
    const rollout = h.rollout;
    const section = el("section.card.health", {id: "health", dataset: {status: h.status || "unknown"}},
      el("div.section-head", el("div.health-title", el("h2", "Monitors"), monitorBadge(h)),
        el("span.muted.small", isNum(h.evaluated_at_ms) ? `evaluated ${fmtMs(h.evaluated_at_ms)}` :
          "checked every 5 minutes while the experiment runs")));
    if (h.status === "unknown" || monitors.length === 0) {
      section.append(el("p.muted", h.experiment_status && h.experiment_status !== "running" ?
        `Not evaluated: the monitors check running experiments only (this one is ${words(h.experiment_status)}).` :
        "Not evaluated yet: the monitors (SRM, guardrails, traffic, multiple exposures) have not run on this experiment."));
    } else {
      const order = {firing: 0, pending: 1, resolved: 2, inactive: 3};
      section.append(el("div.monitor-list", monitors.slice().sort((a, b) => (order[a.state] ?? 9) - (order[b.state] ?? 9)).map((m) => {
        const cls = m.state === "firing" ? "bad" : m.state === "pending" ? "warn" : "good";
        const label = m.state === "firing" ? "Firing" : m.state === "pending" ? "Pending" : "OK";
        return el(`div.monitor.${cls}`, {dataset: {monitor: m.monitor, state: m.state}},
          el("span.monitor-name", monitorName(m.monitor)), el("span.monitor-state", label),
          m.state === "firing" || m.state === "pending" ? el("span.small", `since ${fmtMs(m.since_ms)}`) : null);
      })));
    }
    if (rollout && typeof rollout === "object") {
      section.append(el("p.small", `Rollout: step ${isNum(rollout.step) ? rollout.step + 1 : DASH}, coverage ${isNum(rollout.coverage) ? fmtPct(rollout.coverage, 0).replace("+", "") : DASH}, ${words(rollout.status)}`));
    }
    section.append(el("h3.alerts-title", "Recent alerts"));
    if (alerts.length === 0) {
      section.append(el("p.muted.small", {id: "recent-alerts"}, "No alert in the last 7 days."));
    } else {
      section.append(el("ul.alerts", {id: "recent-alerts"}, alerts.map((a) => {
        const st = a.statistic || {};
        const p = [st.p_value, st.e_value].find(isNum);
        return el("li", {dataset: {state: a.state, monitor: a.monitor}},
          el(`span.chip.${a.state === "firing" ? "bad" : a.state === "resolved" ? "good" : "neutral"}`, words(a.state)),
          el("span.alert-monitor", monitorName(a.monitor)),
          el("span.muted.small", fmtMs(a.at_ms)),
          isNum(st.p_value) ? el("span.muted.small", `p ${fmtP(st.p_value)}`) : isNum(p) ? el("span.muted.small", `e ${fmtNum(p)}`) : null,
          st.reason ? el("span.muted.small", st.reason) : null);
      })));
    }
    return section;
  }

  function notesSection(report) {
    const notes = Array.isArray(report.notes) ? report.notes.filter(Boolean) : [];
    const dq = report.data_quality || {};
    const noExposures = isNum(dq.total_exposures) ? dq.total_exposures === 0 :
      Array.isArray(report.exposures) && report.exposures.every((e) => !e || !e.users);
    if (noExposures && !notes.some((n) => /exposure/i.test(n))) {
      notes.unshift("No exposures yet in the current phase: nothing to analyse until users are exposed.");
    }
    if (notes.length === 0) return null;
    return el("section.callout.warn.notes", el("ul", notes.map((n) => el("li", n))));
  }

  function summarySection(report) {
    const cards = el("section.summary");
    // Users per variant and SRM.
    const exposures = Array.isArray(report.exposures) ? report.exposures : [];
    const srm = report.srm || {};
    const expected = Array.isArray(srm.expected_users) ? srm.expected_users : [];
    const srmBad = srm.valid && srm.mismatch;
    cards.append(el("div.card.stat",
      el("h3", "Users"),
      el("div.big", fmtInt((report.data_quality || {}).unique_users ?? exposures.reduce((a, e) => a + (e.users || 0), 0))),
      el("table.mini", exposures.map((e, i) => el("tr",
        el("td", e.variant), el("td.num", fmtInt(e.users)),
        el("td.num.muted", isNum(expected[i]) ? `expected ${fmtInt(expected[i])}` : "")))),
      el(`div.badge.${srm.valid ? (srmBad ? "bad" : "good") : "neutral"}`, {id: "srm"},
        srm.valid ? (srmBad ? `Sample ratio mismatch, p ${fmtP(srm.p_value)}` : `No SRM (p ${fmtP(srm.p_value)})`) :
          `SRM not checked${srm.reason ? `: ${srm.reason}` : ""}`)));

    // Plan.
    const plan = report.plan || {};
    const planned = isNum(plan.planned_sample_size) || plan.planned_end;
    const frac = isNum(plan.information_fraction) ? Math.max(0, Math.min(1, plan.information_fraction)) : null;
    cards.append(el("div.card.stat",
      el("h3", "Plan"),
      planned ? [
        el("div.big", frac !== null ? `${Math.round(frac * 100)} %` : DASH),
        frac !== null ? el("progress", {max: 1, value: frac}) : null,
        el("div.small", isNum(plan.planned_sample_size) ? `${fmtInt(plan.planned_sample_size)} users planned` : null),
        el("div.small", plan.planned_end ? `ends ${fmtDate(plan.planned_end)}` : null),
        el("div.small.muted", plan.reached ? "plan reached" : "plan not reached yet"),
      ] : el("p.muted.small", "No plan: set planned_sample_size or planned_end on the experiment to monitor with group-sequential boundaries.")));

    // Method.
    const seq = report.sequential || {};
    const mt = report.multiple_testing || {};
    const methodName = {group_sequential: "Group sequential", always_valid: "Always valid (mSPRT)"}[seq.method] || words(seq.method);
    cards.append(el("div.card.stat",
      el("h3", "Method"),
      el("div.big.method", {id: "method"}, methodName),
      seq.spending ? el("div.small", `${words(seq.spending)} spending${seq.looks ? `, ${seq.looks}` : ""}`) : null,
      isNum(seq.expected_n) ? el("div.small", `tuned for ${fmtInt(seq.expected_n)} users`) : null,
      seq.description ? el("p.small.muted", seq.description) : null,
      el("div.small", `α = ${isNum(report.alpha) ? report.alpha : DASH}; correction: ${words(mt.method)}${isNum(mt.comparisons) ? ` over ${mt.comparisons} comparisons` : ""}`)));
    return cards;
  }

  function intervalNote(report) {
    const seq = report.sequential || {};
    const level = isNum(report.alpha) ? `${Math.round((1 - report.alpha) * 100)} %` : "";
    if (seq.method === "group_sequential") return `intervals: ${level} repeated confidence intervals of the group-sequential design; p-values corrected`;
    if (seq.method === "always_valid") return `intervals: ${level} always-valid (confidence sequence); p-values corrected`;
    return "";
  }

  // Rows of (metric, comparison) pairs grouped by role.
  function metricsTable(metrics, report, opts = {}) {
    if (metrics.length === 0) return el("p.muted", "No metric in this report. Define one with POST /v1/metrics.");
    const hasRoles = metrics.some((m) => m && m.role);
    const groups = new Map();
    for (const m of metrics) {
      const role = hasRoles ? roleOf(m) : "all";
      if (!groups.has(role)) groups.set(role, []);
      groups.get(role).push(m);
    }
    const order = hasRoles ? ROLE_ORDER.filter((r) => groups.has(r)) : ["all"];
    const control = report.control;
    const cols = ["Metric", "Variant", "Control", "Treatment", "Lift", "Interval", "p-value", "Chance to beat", "Conclusion"];
    const tbody = [];
    for (const role of order) {
      if (hasRoles) tbody.push(el("tr.group", el("th", {colspan: cols.length, scope: "colgroup"}, ROLE_TITLES[role])));
      for (const m of groups.get(role)) tbody.push(...metricRows(m, control, opts));
    }
    return el("div.table-wrap", el("table.metrics", {id: opts.id || "metrics-table"},
      el("thead", el("tr", cols.map((c, i) => el(i >= 2 && i <= 7 ? "th.num" : "th", c)))),
      el("tbody", tbody)));
  }

  function metricRows(m, control, opts) {
    const name = el("td.metric",
      el("div.metric-name", metricLabel(m)),
      m.name && m.name !== m.metric ? el("div.muted.small.mono", m.metric) : null,
      el("div.muted.small", [m.type, marginText(m), m.cuped && m.cuped.applied ? `CUPED ${isNum(m.cuped.variance_reduction) ? `−${Math.round(m.cuped.variance_reduction * 100)} % variance` : "on"}` : null].filter(Boolean).join(" · ")));
    if (m.cuped && !m.cuped.applied && m.cuped.reason) name.title = `no CUPED: ${m.cuped.reason}`;
    if (m.valid === false || !Array.isArray(m.comparisons) || m.comparisons.length === 0) {
      return [el("tr", {dataset: {metric: m.metric}}, name, el("td.muted", {colspan: 8}, m.reason || "no comparison: not enough data"))];
    }
    const rows = [];
    m.comparisons.forEach((c, i) => {
      const rel = decisionInference(c, "relative");
      const abs = decisionInference(c, "absolute");
      const relEst = (c.relative && c.relative.estimate) ?? (rel.inf && rel.inf.estimate);
      const showRel = rel.inf && rel.inf.ci && (isNum(rel.inf.ci.lower) || isNum(rel.inf.ci.upper));
      const cells = [
        el("td.variant", c.variant || DASH),
        el("td.num", fmtValue(m, variantValue(m, control))),
        el("td.num", fmtValue(m, variantValue(m, c.variant))),
        el("td.num.lift", {title: `absolute ${fmtSigned(abs.inf && abs.inf.estimate)}`}, isNum(relEst) ? fmtPct(relEst) : fmtSigned(abs.inf && abs.inf.estimate)),
        el("td.num.interval", showRel ? fmtInterval(rel.inf.ci, true) : fmtInterval(abs.inf && abs.inf.ci, false)),
        el("td.num", {title: isNum(c.p_value) ? `fixed-horizon p = ${fmtP(c.p_value)}` : null}, fmtP(pValue(c))),
        el("td.num", isNum(c.chance_to_beat_control) ? `${(c.chance_to_beat_control * 100).toFixed(1)} %` : DASH),
        el("td", c.valid === false ? el("span.chip.muted", {title: c.reason || ""}, "Insufficient data") : conclusionChip(c.conclusion),
          guardrailNote(c.guardrail)),
      ];
      const row = el("tr", {dataset: {metric: m.metric, variant: c.variant || ""}});
      if (i === 0) {
        name.setAttribute("rowspan", m.comparisons.length);
        row.append(name);
      }
      append(row, cells);
      rows.push(row);
    });
    return rows;
  }

  // A guardrail's one-sided verdict against its margin, under the conclusion.
  function guardrailNote(g) {
    if (!g || typeof g !== "object") return null;
    if (g.harm) return el("div.small.guard.bad-text", "harm beyond the margin");
    if (g.non_inferior === true) return el("div.small.guard.good-text", "within the margin");
    if (g.non_inferior === false) return el("div.small.guard.muted", "not yet shown within the margin");
    return null;
  }

  // Observable Plot adds a <style> element to each chart; the page's
  // Content-Security-Policy allows no inline style, so it is removed before the
  // chart enters the document and style.css carries the same rules.
  function mount(container, chart) {
    for (const s of chart.querySelectorAll("style")) s.remove();
    if (chart.tagName.toLowerCase() === "style") return;
    clear(container).append(chart);
  }
  function emptyChart(container, text) {
    append(clear(container), el("div.empty", text));
  }
  const labelWidth = (labels) => Math.min(260, 16 + 6.6 * Math.max(4, ...labels.map((l) => l.length)));

  function forestRows(metrics, labelOf) {
    const rows = [];
    for (const m of metrics) {
      for (const c of m.comparisons || []) {
        if (!c) continue;
        const {inf} = decisionInference(c, "relative");
        const est = (c.relative && c.relative.estimate) ?? (inf && inf.estimate);
        if (!isNum(est)) continue;
        const ci = (inf && inf.ci) || {};
        rows.push({
          label: labelOf(m, c),
          metric: metricLabel(m),
          variant: c.variant,
          est,
          lo: isNum(ci.lower) ? ci.lower : null,
          hi: isNum(ci.upper) ? ci.upper : null,
          conclusion: CONCLUSIONS[c.conclusion] ? c.conclusion : "inconclusive",
          margin: isNum(m.margin) ? (m.higher_is_better === false ? m.margin : -m.margin) : null,
          chance: c.chance_to_beat_control,
        });
      }
    }
    return rows;
  }

  // A domain that shows every estimate and the intervals where they are informative:
  // always-valid intervals of tiny samples can be enormous, so bounds are capped at
  // a few times the spread of the estimates and the marks are clipped.
  function cappedDomain(values, bounds, minHalf = 0.02) {
    const est = values.filter(isNum);
    const b = bounds.filter(isNum);
    if (est.length === 0) return [-minHalf, minHalf];
    const spread = Math.max(minHalf, ...est.map(Math.abs));
    const cap = spread * 4;
    let lo = Math.min(0, ...est, ...b.map((x) => Math.max(x, -cap)));
    let hi = Math.max(0, ...est, ...b.map((x) => Math.min(x, cap)));
    const pad = (hi - lo) * 0.06 || minHalf;
    return [lo - pad, hi + pad];
  }

  function drawForest(container, metrics, labelOf) {
    const treatments = new Set(metrics.flatMap((m) => (m.comparisons || []).map((c) => c && c.variant)));
    labelOf = labelOf || ((m, c) => (treatments.size > 1 ? `${metricLabel(m)} · ${c.variant}` : metricLabel(m)));
    const rows = forestRows(metrics, labelOf);
    if (rows.length === 0) return emptyChart(container, "Nothing to plot yet: no metric has a relative lift (no exposures or no conversions in control).");
    const labels = [...new Set(rows.map((r) => r.label))];
    const domain = cappedDomain(rows.map((r) => r.est), rows.flatMap((r) => [r.lo, r.hi, r.margin]));
    const summary = (r) => `${fmtPct(r.est)}   ${isNum(r.lo) ? fmtPct(r.lo) : "−∞"} … ${isNum(r.hi) ? fmtPct(r.hi) : "+∞"}`;
    const chart = Plot.plot({
      width: Math.max(480, container.clientWidth || 900),
      height: 50 + 34 * labels.length,
      marginLeft: labelWidth(labels),
      marginRight: 190,
      style: {fontSize: "12px"},
      x: {domain, label: null, tickFormat: (d) => fmtPct(d, 0), grid: true},
      y: {domain: labels, label: null, tickSize: 0, tickPadding: 10},
      color: {domain: Object.keys(COLORS), range: Object.values(COLORS)},
      marks: [
        Plot.ruleX([0], {stroke: "#94a3b8"}),
        Plot.tickX(rows.filter((r) => isNum(r.margin)), {x: "margin", y: "label", stroke: "#b45309", strokeDasharray: "3,3", strokeWidth: 1.5}),
        Plot.ruleY(rows.filter((r) => isNum(r.lo) && isNum(r.hi)), {y: "label", x1: "lo", x2: "hi", stroke: "conclusion", strokeWidth: 3, strokeLinecap: "round", clip: true}),
        Plot.dot(rows, {x: "est", y: "label", fill: "conclusion", r: 5, stroke: "white", strokeWidth: 1.5, clip: true}),
        Plot.text(rows, {y: "label", text: summary, frameAnchor: "right", textAnchor: "start", dx: 16, fill: "conclusion", fontVariant: "tabular-nums"}),
        Plot.tip(rows, Plot.pointerY({x: "est", y: "label", title: (r) =>
          `${r.metric} · ${r.variant}\nlift ${fmtPct(r.est)}\ninterval ${isNum(r.lo) ? fmtPct(r.lo) : "−∞"} … ${isNum(r.hi) ? fmtPct(r.hi) : "+∞"}` +
          (isNum(r.chance) ? `\nchance to beat control ${(r.chance * 100).toFixed(1)} %` : "")})),
      ],
    });
    mount(container, chart);
  }

  // ---------------------------------------------------------- cumulative series
  function seriesRows(metric, scale) {
    const rows = [];
    for (const s of metric.series || []) {
      if (!s || !Array.isArray(s.points)) continue;
      for (const p of s.points) {
        const inf = p && p[scale];
        if (!inf || !isNum(inf.estimate) || !p.date) continue;
        const ci = inf.ci || {};
        rows.push({
          date: new Date(`${String(p.date).slice(0, 10)}T00:00:00Z`),
          variant: s.variant,
          est: inf.estimate,
          lo: isNum(ci.lower) ? ci.lower : null,
          hi: isNum(ci.upper) ? ci.upper : null,
          users: p.users,
          significant: !!p.significant,
        });
      }
    }
    return rows.sort((a, b) => a.date - b.date);
  }

  function seriesSection(metrics, state) {
    const withSeries = metrics.filter((m) => Array.isArray(m.series) && m.series.length > 0);
    const section = el("section.card",
      el("div.section-head", el("h2", "Cumulative effect over time"),
        el("span.muted.small", "one point per UTC day: the effect on everyone exposed so far, with its sequential interval")));
    const chart = el("div.chart", {id: "series"});
    if (withSeries.length === 0) {
      section.append(chart);
      emptyChart(chart, metrics.length === 0 ? "No metric to follow." : "No daily series in this report yet (it needs exposures on at least one day).");
      return section;
    }
    const select = el("select", {id: "series-metric", "aria-label": "Metric"},
      withSeries.map((m) => el("option", {value: m.metric}, metricLabel(m))));
    const scaleSel = el("select", {id: "series-scale", "aria-label": "Scale"},
      el("option", {value: "relative"}, "Relative"), el("option", {value: "absolute"}, "Absolute"));
    if (withSeries.some((m) => m.metric === state.metric)) select.value = state.metric;
    if (state.scale === "absolute") scaleSel.value = "absolute";
    const controls = el("div.controls", el("label", "Metric ", select), el("label", "Scale ", scaleSel));
    section.append(controls, chart);
    const draw = () => {
      const m = withSeries.find((x) => x.metric === select.value) || withSeries[0];
      let scale = scaleSel.value;
      let rows = seriesRows(m, scale);
      if (rows.length === 0 && scale === "relative") {
        scale = "absolute";
        rows = seriesRows(m, scale);
      }
      Object.assign(state, {metric: m.metric, scale: scaleSel.value});
      setHashState(state);
      drawSeries(chart, rows, scale);
    };
    select.addEventListener("change", draw);
    scaleSel.addEventListener("change", draw);
    // Drawn once the section is in the document, so it knows its width.
    requestAnimationFrame(draw);
    return section;
  }

  function drawSeries(container, rows, scale) {
    if (rows.length === 0) return emptyChart(container, "No point to draw for this metric yet.");
    const variants = [...new Set(rows.map((r) => r.variant))];
    const pct = scale === "relative";
    // Early intervals can be very wide: the y domain follows the later half of the series.
    const late = rows.filter((r, i, all) => r.date >= all[Math.floor(all.length / 2)].date);
    const domain = cappedDomain(rows.map((r) => r.est), late.flatMap((r) => [r.lo, r.hi]), pct ? 0.02 : 1e-9);
    const band = rows.filter((r) => isNum(r.lo) && isNum(r.hi));
    const fmt = (d) => (pct ? fmtPct(d, 0) : fmtSigned(d));
    // One tick per day for short experiments, else d3's choice of round dates.
    const days = (rows[rows.length - 1].date - rows[0].date) / 86400000;
    const chart = Plot.plot({
      width: Math.max(480, container.clientWidth || 900),
      height: 300,
      marginLeft: 64,
      marginRight: 24,
      x: {type: "utc", label: null, ticks: days <= 14 ? "day" : 8, tickFormat: "%b %-d", inset: 8},
      y: {domain, label: pct ? "Relative effect" : "Absolute effect", tickFormat: fmt, grid: true},
      color: {domain: variants, range: VARIANT_COLORS, legend: variants.length > 1},
      marks: [
        Plot.areaY(band, {x: "date", y1: "lo", y2: "hi", fill: "variant", fillOpacity: 0.14, curve: "monotone-x", clip: true}),
        Plot.ruleY([0], {stroke: "#94a3b8"}),
        Plot.lineY(rows, {x: "date", y: "est", stroke: "variant", strokeWidth: 2, curve: "monotone-x", clip: true}),
        // Two marks: a fill computed per row goes through the colour scale, where
        // "white" is no variant and the dot would be dropped.
        Plot.dot(rows.filter((r) => !r.significant), {x: "date", y: "est", fill: "white", stroke: "variant", r: 3, clip: true}),
        Plot.dot(rows.filter((r) => r.significant), {x: "date", y: "est", fill: "variant", stroke: "variant", r: 3, clip: true}),
        Plot.tip(rows, Plot.pointerX({x: "date", y: "est", title: (r) =>
          `${r.date.toISOString().slice(0, 10)} · ${r.variant}\neffect ${fmt(r.est)}\ninterval ${isNum(r.lo) ? fmt(r.lo) : "−∞"} … ${isNum(r.hi) ? fmt(r.hi) : "+∞"}\nusers so far ${fmtInt(r.users)}`})),
      ],
    });
    const legend = chart.tagName.toLowerCase() === "figure";
    mount(container, chart);
    if (!legend && variants.length === 1) container.prepend(el("div.small.muted", `${variants[0]} vs control; filled dots: significant`));
  }

  // ----------------------------------------------------------------- segments
  function segmentSection(key, report, metrics, state) {
    const known = new Set(["rfm"]);
    for (const a of report.attributes || []) known.add(a);
    for (const a of ((report.segments || {}).by || [])) known.add(a);
    for (const a of JSON.parse(sessionStorage.getItem("causeway.segments") || "[]")) known.add(a);
    if (state.segment) known.add(state.segment);
    const select = el("select", {id: "segment", "aria-label": "Segment by"},
      el("option", {value: ""}, "None"),
      [...known].map((a) => el("option", {value: a}, a === "rfm" ? "RFM tiers (from past purchases)" : a)),
      el("option", {value: "__other"}, "Another attribute…"));
    const custom = el("input.attr", {type: "text", id: "segment-attribute", placeholder: "e.g. country or country,platform", hidden: true, "aria-label": "Attribute"});
    const apply = el("button.secondary", {type: "submit", hidden: true}, "Apply");
    const form = el("form.controls", el("label", "Segment by ", select), custom, apply);
    const body = el("div", {id: "segments"});
    const section = el("section.card",
      el("div.section-head", el("h2", "Segments"),
        el("span.muted.small", "effects per level of an attribute sent with exposures; corrected across segments")),
      form, body);
    const load = async (segment) => {
      state.segment = segment;
      setHashState(state);
      if (!segment) {
        append(clear(body), el("p.muted", "Choose an attribute to see every metric per segment."));
        return;
      }
      append(clear(body), el("p.muted", `Loading segments by ${segment}…`));
      let r;
      try {
        r = await api(`/v1/experiments/${encodeURIComponent(key)}/report?segment=${encodeURIComponent(segment)}`);
      } catch (e) {
        if (handleAuth(e)) return;
        append(clear(body), el("div.callout.bad", el("strong", `Cannot segment by ${segment}: `), e.message));
        return;
      }
      if (segment !== "rfm") {
        const saved = new Set(JSON.parse(sessionStorage.getItem("causeway.segments") || "[]"));
        saved.add(segment);
        sessionStorage.setItem("causeway.segments", JSON.stringify([...saved]));
      }
      // An attribute typed in becomes one of the choices.
      if (![...select.options].some((o) => o.value === segment)) {
        select.insertBefore(el("option", {value: segment}, segment), select.lastElementChild);
      }
      select.value = segment;
      custom.hidden = apply.hidden = true;
      renderSegments(body, r, segment);
    };
    select.addEventListener("change", () => {
      const other = select.value === "__other";
      custom.hidden = apply.hidden = !other;
      if (other) custom.focus();
      else load(select.value);
    });
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const v = custom.value.trim();
      if (v) load(v);
    });
    select.value = state.segment && known.has(state.segment) ? state.segment : "";
    load(select.value);
    return section;
  }

  function renderSegments(body, report, segment) {
    const seg = report.segments;
    clear(body);
    if (!seg || !Array.isArray(seg.levels)) {
      body.append(el("div.callout.warn", "This server's report has no segments for ", el("code", segment), "."));
      return;
    }
    if (seg.levels.length === 0) {
      body.append(el("p.muted", `No level of ${segment} among the exposed users yet.`));
      return;
    }
    const mt = seg.multiple_testing || {};
    const folded = isNum(seg.folded_levels) ? seg.folded_levels > 0 : !!seg.other;
    body.append(el("p.small.muted", `${seg.levels.length} level(s) of ${(seg.by || [segment]).join(" × ")}` +
      (isNum(seg.max_levels) ? ` (at most ${seg.max_levels}` + (folded && seg.other ? `; ${seg.other})` : ")") : "") +
      (seg.rfm_event ? `; RFM scored from "${seg.rfm_event}" events before each user's first exposure` : "") +
      (mt.method ? `; ${words(mt.method)} correction over ${mt.family || "every segment"}` : "")));
    // One row per (level, treatment), one table per metric.
    const metricKeys = [];
    const byMetric = new Map();
    for (const level of seg.levels) {
      for (const m of level.metrics || []) {
        if (!byMetric.has(m.metric)) {
          byMetric.set(m.metric, {meta: m, rows: []});
          metricKeys.push(m.metric);
        }
        byMetric.get(m.metric).rows.push({level, m});
      }
    }
    const segChart = el("div.chart", {id: "segment-forest"});
    body.append(segChart);
    const forestMetrics = [];
    const table = el("table.metrics.segments", {id: "segment-table"},
      el("thead", el("tr", ["Segment", "Users", "SRM", "Variant", "Lift", "Interval", "p-value", "Chance to beat", "Conclusion"].map((c, i) =>
        el(i === 1 || (i >= 4 && i <= 7) ? "th.num" : "th", c)))));
    const tbody = el("tbody");
    table.append(tbody);
    for (const k of metricKeys) {
      const {meta, rows} = byMetric.get(k);
      tbody.append(el("tr.group", el("th", {colspan: 9, scope: "colgroup"}, metricLabel(meta), meta.role && ROLE_TITLES[meta.role] ? el("span.muted.small", ` · ${words(meta.role)}`) : null)));
      for (const {level, m} of rows) {
        const srm = level.srm || {};
        const comps = Array.isArray(m.comparisons) && m.comparisons.length ? m.comparisons : [null];
        comps.forEach((c, i) => {
          const row = el("tr", {dataset: {segment: level.segment, metric: k}});
          if (i === 0) {
            row.append(el("td.segment", {rowspan: comps.length}, level.segment ?? DASH),
              el("td.num", {rowspan: comps.length}, fmtInt(level.users)),
              el("td", {rowspan: comps.length}, srm.valid ? el(`span.badge.${srm.mismatch ? "bad" : "good"}`, srm.mismatch ? `SRM p ${fmtP(srm.p_value)}` : "ok") : el("span.muted", DASH)));
          }
          if (!c || m.valid === false) {
            row.append(el("td.muted", {colspan: 6}, m.reason || (c && c.reason) || "not enough data"));
          } else {
            const rel = decisionInference(c, "relative");
            const relEst = (c.relative && c.relative.estimate) ?? (rel.inf && rel.inf.estimate);
            row.append(el("td.variant", c.variant || DASH),
              el("td.num.lift", fmtPct(relEst)),
              el("td.num.interval", fmtInterval(rel.inf && rel.inf.ci, true)),
              el("td.num", fmtP(pValue(c))),
              el("td.num", isNum(c.chance_to_beat_control) ? `${(c.chance_to_beat_control * 100).toFixed(1)} %` : DASH),
              el("td", c.valid === false ? el("span.chip.muted", "Insufficient data") : conclusionChip(c.conclusion)));
          }
          tbody.append(row);
        });
        forestMetrics.push({...m, _segment: level.segment});
      }
    }
    body.append(el("div.table-wrap", table));
    const multiT = new Set(forestMetrics.flatMap((m) => (m.comparisons || []).map((c) => c && c.variant))).size > 1;
    drawForest(segChart, forestMetrics, (m, c) => `${metricLabel(m)} · ${m._segment}${multiT ? ` · ${c.variant}` : ""}`);
  }

  // -------------------------------------------------------------- data quality
  function qualitySection(report) {
    const dq = report.data_quality;
    const section = el("section.card", el("h2", "Data quality"));
    if (!dq) {
      section.append(el("p.muted", "No data-quality counts in this report."));
      return section;
    }
    const items = [
      ["total_exposures", "Exposures", false],
      ["unique_users", "Exposed users", false],
      ["multi_variant_users", "Users in several variants (excluded)", true],
      ["conversions_before_exposure", "Conversions before first exposure (not counted)", true],
      ["wrong_variant_users", "Users logged in a variant the hash does not give them", true],
      ["unknown_variant_users", "Users exposed to a variant the experiment does not have", true],
      ["override_users", "Users with a forced variant (overrides)", true],
    ];
    section.append(el("dl.quality", {id: "data-quality"}, items.filter(([k]) => k in dq).map(([k, label, problem]) =>
      el(`div.q${problem && isNum(dq[k]) && dq[k] > 0 ? ".warn" : ""}`, el("dt", label), el("dd", fmtInt(dq[k]))))));
    return section;
  }

  // -------------------------------------------------------------- metrics page
  // /metrics in a browser (the server answers GET /metrics with this page when the
  // request accepts text/html, and with Prometheus text otherwise): the chosen
  // metrics' series as charts, each alert rule's firing periods shaded on its
  // metric's chart, the rules with their state; refreshed every minute.
  const METRICS_STORAGE = "causeway.metrics.shown";
  const RANGE_STORAGE = "causeway.metrics.range";
  const MINUTE = 60000;
  const HOUR = 60 * MINUTE;
  const DAY = 24 * HOUR;
  const RANGES = [
    {key: "1h", label: "Last hour · 1 min", span: HOUR, step: "1m"},
    {key: "6h", label: "Last 6 hours · 5 min", span: 6 * HOUR, step: "5m"},
    {key: "24h", label: "Last 24 hours · 5 min", span: DAY, step: "5m"},
    {key: "7d", label: "Last 7 days · 1 hour", span: 7 * DAY, step: "1h"},
    {key: "30d", label: "Last 30 days · 1 day", span: 30 * DAY, step: "1d"},
  ];
  const STEP_WORDS = {"1m": "minute", "5m": "5 min", "1h": "hour", "1d": "day"};
  const FIRING_COLOR = "#dc2626";
  const SERIES_COLOR = "#2563eb";
  // How far back the alert history is read for firing periods that began before
  // the range (a rule firing for longer shows as firing from the range's start).
  const ALERT_LOOKBACK_MS = 30 * DAY;
  let refreshTimer = null;

  // The refresh interval: 60 s, or `#refresh=<seconds>` (at least 1) in the
  // fragment; the page's URL takes no query string.
  function refreshMs() {
    const s = Number(new URLSearchParams(location.hash.slice(1)).get("refresh"));
    return isNum(s) && s >= 1 ? s * 1000 : 60000;
  }
  function stopRefresh() {
    if (refreshTimer !== null) clearInterval(refreshTimer);
    refreshTimer = null;
  }
  function storedList(name) {
    try {
      const v = JSON.parse(localStorage.getItem(name));
      return Array.isArray(v) ? v.map(String) : null;
    } catch (_) {
      return null;
    }
  }
  const fmtMs = (ms) => (isNum(ms) ? fmtDate(new Date(ms).toISOString()) : DASH);
  const fmtClock = (ms) => new Date(ms).toISOString().slice(11, 16);
  function fmtSpan(ms) {
    if (!isNum(ms) || ms < 0) return DASH;
    const m = Math.round(ms / MINUTE);
    if (m < 1) return "under a minute";
    if (m < 60) return `${m} min`;
    const h = Math.floor(m / 60);
    if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
    return `${Math.round(h / 24)} d`;
  }
  function conditionText(rule) {
    const c = rule.condition || {};
    const volume = isNum(c.min_volume) && c.min_volume > 0 ? `, at least ${fmtInt(c.min_volume)} events` : "";
    const perMinute = rule.metric_kind === "count" ? " per minute" : "";
    if (c.type === "threshold") return `${c.op === "below" ? "below" : "above"} ${fmtNum(c.value)}${perMinute} over ${rule.window || DASH}${volume}`;
    if (c.type === "change") {
      const base = {
        same_time_days: `the same window on the ${c.baseline_windows || 7} previous days`,
        trailing_windows: `the ${c.baseline_windows || ""} windows before`,
        day: "the same window a day earlier",
        week: "the same window a week earlier",
      }[c.baseline] || words(c.baseline);
      const dir = {drop: "drop", rise: "rise", both: "change"}[c.direction] || "change";
      return `${dir} over ${rule.window || DASH} vs ${base} (α ${isNum(c.alpha) ? c.alpha : DASH}${volume})`;
    }
    return words(c.type);
  }

  // Every alert of kind `rule` since `since`, oldest first (paged by at_ms, deduped by id).
  async function ruleAlerts(since) {
    const out = [];
    const seen = new Set();
    for (let pages = 0; pages < 10; pages++) {
      const r = await api(`/v1/alerts?since=${since}&limit=1000`);
      const list = (r && Array.isArray(r.alerts)) ? r.alerts : [];
      let fresh = 0;
      for (const a of list) {
        if (!a || seen.has(a.id)) continue;
        seen.add(a.id);
        fresh++;
        if (a.kind === "rule" || a.subject_kind === "rule") out.push(a);
      }
      if (list.length < 1000 || fresh === 0) break;
      since = list[list.length - 1].at_ms;
    }
    return out.sort((a, b) => a.at_ms - b.at_ms);
  }
  // Per rule: its firing periods (a `firing` alert to the next `resolved`, or now)
  // and its last alert.
  function ruleHistory(alerts, now) {
    const byRule = new Map();
    for (const a of alerts) {
      const rule = a.rule ?? a.subject;
      if (!byRule.has(rule)) byRule.set(rule, {periods: [], open: null, last: null});
      const h = byRule.get(rule);
      h.last = a;
      if (a.state === "firing" && !h.open) h.open = a;
      if (a.state === "resolved" && h.open) {
        h.periods.push({rule, from: h.open.at_ms, to: a.at_ms, open: false});
        h.open = null;
      }
    }
    for (const [rule, h] of byRule) if (h.open) h.periods.push({rule, from: h.open.at_ms, to: now, open: true});
    return byRule;
  }
  function ruleState(rule, history) {
    if (rule.enabled === false) return {state: "disabled", cls: "neutral", label: "Disabled", since: null};
    const last = history && history.last;
    if (last && last.state === "firing") return {state: "firing", cls: "bad", label: "Firing", since: last.at_ms};
    if (last && last.state === "resolved") return {state: "resolved", cls: "good", label: "OK", since: last.at_ms};
    return {state: "inactive", cls: "good", label: "OK", since: null};
  }

  async function renderMetrics() {
    stopRefresh();
    const state = {
      range: RANGES.find((r) => r.key === localStorage.getItem(RANGE_STORAGE)) || RANGES[2],
      shown: storedList(METRICS_STORAGE),
      metrics: [],
      cards: new Map(),
      busy: false,
      again: false,
    };
    const rangeSel = el("select", {id: "metrics-range", "aria-label": "Range"},
      RANGES.map((r) => el("option", {value: r.key}, r.label)));
    rangeSel.value = state.range.key;
    const updated = el("span.muted.small", {id: "metrics-updated"}, "Loading…");
    const chooser = el("div.chooser", {id: "metrics-choose"});
    const head = el("section.card.metrics-head",
      el("div.section-head", el("h1", "Metrics"),
        el("div.controls",
          el("label", "Range ", rangeSel),
          el("button.secondary", {type: "button", id: "metrics-refresh", onclick: () => refresh()}, "↻ Refresh"),
          updated)),
      chooser);
    const rulesCard = el("section.card", {id: "rules"},
      el("div.section-head", el("h2", "Alert rules"),
        el("span.muted.small", "state from the alert history; shaded on the charts while firing")),
      el("p.muted", "Loading…"));
    const grid = el("div.metric-grid", {id: "metric-charts"});
    clear(main).append(head, rulesCard, grid);

    rangeSel.addEventListener("change", () => {
      state.range = RANGES.find((r) => r.key === rangeSel.value) || RANGES[2];
      localStorage.setItem(RANGE_STORAGE, state.range.key);
      refresh();
    });

    // Which metrics are drawn: the saved choice, else every metric with a series
    // (those with a rule first).
    const drawable = (m) => m.type !== "binomial";
    const shownKeys = () => {
      const known = state.metrics.filter(drawable).map((m) => m.key);
      if (state.shown) return state.shown.filter((k) => known.includes(k));
      return known;
    };
    const renderChooser = () => {
      clear(chooser);
      if (state.metrics.length === 0) {
        chooser.append(el("p.muted.small", "No metric defined yet: create one with POST /v1/metrics (a count, mean or ratio metric has a series)."));
        return;
      }
      const shown = new Set(shownKeys());
      append(chooser, el("span.muted.small.chooser-label", "Shown:"),
        state.metrics.map((m) => {
          const ok = drawable(m);
          const box = el("input", {type: "checkbox", value: m.key, checked: ok && shown.has(m.key), disabled: !ok});
          box.addEventListener("change", () => {
            const keys = [...chooser.querySelectorAll("input:checked")].map((b) => b.value);
            state.shown = keys;
            localStorage.setItem(METRICS_STORAGE, JSON.stringify(keys));
            refresh();
          });
          return el(`label.toggle${ok ? "" : ".off"}`, {title: ok ? `${m.type} of ${m.event}` :
            "a binomial metric is a share of an experiment's exposed users: it has no series without an experiment (define a ratio or a count)"},
          box, metricLabel({metric: m.key, name: m.name}), ok ? null : el("span.muted", " (binomial: no series)"));
        }));
    };

    // One load at a time; a change made during one (range, metrics) loads again after it.
    const refresh = async () => {
      if (state.busy) {
        state.again = true;
        return;
      }
      state.busy = true;
      try {
        do {
          state.again = false;
          await load();
        } while (state.again && main.contains(grid));
      } catch (e) {
        if (handleAuth(e)) return;
        append(clear(updated), el("span.bad-text", `Refresh failed: ${e.message}`));
      } finally {
        state.busy = false;
      }
    };
    const load = async () => {
      const now = Date.now();
      const range = state.range;
      const from = now - range.span;
      const [metricList, ruleList, alerts] = await Promise.all([
        api("/v1/metrics"),
        api("/v1/alerts/rules"),
        ruleAlerts(Math.max(0, from - ALERT_LOOKBACK_MS)),
      ]);
      state.metrics = (Array.isArray(metricList) ? metricList : (metricList && metricList.metrics) || [])
        .slice().sort((a, b) => String(a.key).localeCompare(String(b.key)));
      const rules = (ruleList && Array.isArray(ruleList.rules)) ? ruleList.rules : [];
      const history = ruleHistory(alerts, now);
      // Metrics with a rule first, then by key.
      const ruled = new Set(rules.map((r) => r.metric));
      state.metrics.sort((a, b) => (ruled.has(b.key) - ruled.has(a.key)) || 0);
      if (!chooser.firstChild || chooser._keys !== state.metrics.map((m) => m.key).join()) {
        renderChooser();
        chooser._keys = state.metrics.map((m) => m.key).join();
      }
      renderRules(rulesCard, rules, history, state.metrics);

      const keys = shownKeys();
      const series = await mapLimited(keys, 4, (k) =>
        api(`/v1/metrics/${encodeURIComponent(k)}/series?from=${from}&to=${now}&step=${range.step}`));
      // Cards are kept across refreshes (no flicker, the page keeps its scroll).
      for (const [k, card] of state.cards) {
        if (!keys.includes(k)) {
          card.remove();
          state.cards.delete(k);
        }
      }
      if (keys.length === 0) {
        if (!grid.querySelector(".empty")) {
          append(clear(grid), el("div.empty.wide", state.metrics.some(drawable) ?
            "No metric chosen: tick one above." : "No metric with a series yet (count, mean or ratio)."));
        }
      } else {
        const empty = grid.querySelector(".empty");
        if (empty) empty.remove();
      }
      keys.forEach((k, i) => {
        const m = state.metrics.find((x) => x.key === k);
        let card = state.cards.get(k);
        if (!card) {
          card = el("section.card.metric-card", {dataset: {metric: k}});
          state.cards.set(k, card);
        }
        grid.append(card);  // in the chosen order
        const metricRules = rules.filter((r) => r.metric === k);
        const periods = metricRules.flatMap((r) => (history.get(r.key) || {periods: []}).periods);
        fillMetricCard(card, m, series[i], metricRules, periods, history, range, now);
      });
      clear(updated).append(`updated ${new Date(now).toISOString().slice(11, 19)} UTC · every ${Math.round(refreshMs() / 1000)} s`);
    };

    await refresh();
    if (main.contains(grid)) refreshTimer = setInterval(() => {
      if (!main.contains(grid)) return stopRefresh();
      refresh();
    }, refreshMs());
  }

  function renderRules(card, rules, history, metrics) {
    const body = [];
    if (rules.length === 0) {
      body.push(el("p.muted", "No alert rule yet. Create one with POST /v1/alerts/rules (docs/alerts.md): a threshold or a change on a metric."));
    } else {
      const order = {firing: 0, resolved: 1, inactive: 2, disabled: 3};
      const rows = rules.map((r) => ({r, s: ruleState(r, history.get(r.key))}))
        .sort((a, b) => order[a.s.state] - order[b.s.state] || String(a.r.key).localeCompare(String(b.r.key)));
      body.push(el("div.table-wrap", el("table.list.rules", {id: "rules-table"},
        el("thead", el("tr", el("th", "Rule"), el("th", "Metric"), el("th", "Condition"), el("th", "For"),
          el("th", "State"), el("th", "Since"), el("th.num", "Firing periods"))),
        el("tbody", rows.map(({r, s}) => {
          const h = history.get(r.key);
          const m = metrics.find((x) => x.key === r.metric);
          const firings = h ? h.periods.length : 0;
          return el("tr", {dataset: {rule: r.key, state: s.state}},
            el("td", el("div.rule-name.mono", r.key), r.description ? el("div.muted.small", r.description) : null),
            el("td", m ? metricLabel({metric: m.key, name: m.name}) : r.metric),
            el("td.small", conditionText(r)),
            el("td.small", r.for || "0m"),
            el("td", el(`span.badge.${s.cls}.rule-state`, s.label)),
            el("td.small.muted.since", s.state === "firing" ? `${fmtMs(s.since)}, for ${fmtSpan(Date.now() - s.since)}` :
              s.state === "resolved" ? `resolved ${fmtMs(s.since)}` : s.state === "inactive" ? "no alert yet" : DASH),
            el("td.num", firings ? fmtInt(firings) : el("span.muted", "0")));
        })))));
    }
    const head = card.firstElementChild;
    clear(card).append(head, ...body);
  }

  // A threshold on the chart's scale: a count rule compares events per minute over
  // its window, the chart shows events per bucket, so it is scaled to the step; a
  // mean or ratio is drawn as it is.
  function chartThreshold(rule, metric, stepMs) {
    const c = rule.condition || {};
    if (c.type !== "threshold" || !isNum(c.value)) return null;
    const count = metric.type === "count" || rule.metric_kind === "count";
    const scaled = count ? c.value * stepMs / MINUTE : c.value;
    return {rule: rule.key, value: scaled, op: c.op, text: count && stepMs !== MINUTE ?
      `${rule.key}: ${c.op} ${fmtNum(c.value)} per minute (${fmtNum(scaled)} per bucket)` : `${rule.key}: ${c.op} ${fmtNum(c.value)}`};
  }

  function fillMetricCard(card, m, series, rules, periods, history, range, now) {
    const title = el("div.metric-title",
      el("h2", metricLabel({metric: m.key, name: m.name})),
      el("div.muted.small", [m.key !== (m.name || m.key) ? m.key : null, m.type,
        m.type === "ratio" ? `${m.event} / ${m.denominator_event}` : m.event].filter(Boolean).join(" · ")));
    const chart = el("div.chart.metric-chart");
    if (series instanceof Error) {
      if (handleAuth(series)) return;
      append(clear(card), el("div.section-head", title),
        el("div.callout.warn", el("strong", "No series for this metric: "), series.message));
      return;
    }
    const points = (series.points || []).map((p) => ({
      t: new Date(p.start_ms),
      start: p.start_ms,
      value: isNum(p.value) ? p.value : null,
      events: p.events,
      denominator: p.denominator_sum,
      partial: p.start_ms + series.step_ms > now,
    }));
    const done = points.filter((p) => !p.partial);
    const last = done.filter((p) => p.value !== null).pop();
    const sum = (k) => (series.points || []).reduce((a, p) => a + (isNum(p[k]) ? p[k] : 0), 0);
    const overall = m.type === "count" ? sum("events") : m.type === "ratio" ?
      (sum("denominator_sum") ? sum("sum") / sum("denominator_sum") : null) : (sum("events") ? sum("sum") / sum("events") : null);
    const firingNow = rules.some((r) => ruleState(r, history.get(r.key)).state === "firing");
    const stats = el("div.metric-stats",
      el("div", el("div.stat-value", last ? fmtNum(last.value) : DASH),
        el("div.muted.small", `last full ${STEP_WORDS[range.step] || range.step}`)),
      el("div", el("div.stat-value", fmtNum(overall)),
        el("div.muted.small", m.type === "count" ? `total, ${range.key}` : `overall, ${range.key}`)),
      rules.length ? el("div", el(`span.badge.${firingNow ? "bad" : "good"}`, firingNow ? "Firing" : "OK"),
        el("div.muted.small", `${rules.length} rule${rules.length > 1 ? "s" : ""}`)) : null);
    append(clear(card), el("div.section-head.metric-head", title, stats), chart);
    const legend = el("div.legend.small.muted",
      el("span.key.line", "value per " + (STEP_WORDS[range.step] || range.step)),
      points.some((p) => p.partial) ? el("span.key.partial", "bucket still filling") : null,
      rules.some((r) => chartThreshold(r, m, series.step_ms)) ? el("span.key.threshold", "threshold") : null,
      rules.length ? el("span.key.firing", "firing") : el("span", "no alert rule on this metric"));
    card.append(legend);
    requestAnimationFrame(() => drawMetric(chart, m, series, points, rules, periods));
  }

  function drawMetric(container, m, series, points, rules, periods) {
    if (points.length === 0) return emptyChart(container, "No bucket in this range.");
    const x0 = series.from_ms, x1 = series.to_ms;
    const shaded = periods.filter((p) => p.to > x0 && p.from < x1).map((p) => ({
      ...p, x1: new Date(Math.max(p.from, x0)), x2: new Date(Math.min(p.to, x1)),
    }));
    const starts = shaded.filter((p) => p.from >= x0);
    const thresholds = rules.map((r) => chartThreshold(r, m, series.step_ms)).filter(Boolean);
    const done = points.filter((p) => !p.partial);
    const partial = points.filter((p) => p.partial && p.value !== null);
    // A mean or ratio has no value in a bucket without events: the line joins the
    // buckets that have one, and a sparse series also gets a dot per bucket.
    const count = m.type === "count";
    const defined = done.filter((p) => p.value !== null);
    const sparse = !count && defined.length < done.length * 0.6;
    // Nothing in the range: the frame stays (the dashboard's grid keeps its shape) and says so.
    const nothing = count ? points.every((p) => !p.events) : defined.length === 0 && partial.length === 0;
    const what = m.type === "ratio" ? `${m.event} / ${m.denominator_event}` : m.event;
    const spanDays = (x1 - x0) / DAY;
    const tipText = (p) => `${new Date(p.start).toISOString().slice(0, 16).replace("T", " ")} UTC\nvalue ${fmtNum(p.value)}` +
      `\nevents ${fmtInt(p.events)}` + (m.type === "ratio" ? `\ndenominator ${fmtNum(p.denominator)}` : "") +
      (p.partial ? "\n(bucket still filling)" : "") +
      shaded.filter((s) => s.from <= p.start + series.step_ms && s.to > p.start).map((s) => `\nfiring: ${s.rule}`).join("");
    const chart = Plot.plot({
      width: Math.max(360, container.clientWidth || 560),
      height: 220,
      marginLeft: 52,
      marginRight: 14,
      marginTop: 14,
      x: {type: "utc", domain: [new Date(x0), new Date(x1)], label: null,
        tickFormat: spanDays > 1.5 ? "%b %-d" : "%H:%M", ticks: 6},
      y: {label: null, grid: true, nice: true, zero: count, tickFormat: fmtNum, ...(nothing && !thresholds.length ? {domain: [0, 1], ticks: 1} : {})},
      marks: [
        Plot.rect(shaded, {x1: "x1", x2: "x2", fill: FIRING_COLOR, fillOpacity: 0.12, className: "firing-period",
          title: (p) => `${p.rule} firing ${fmtMs(p.from)} → ${p.open ? "now" : fmtMs(p.to)} (${fmtSpan(p.to - p.from)})`}),
        Plot.ruleX(starts, {x: "x1", stroke: FIRING_COLOR, strokeOpacity: 0.7, strokeWidth: 1.5}),
        Plot.ruleY(thresholds, {y: "value", stroke: "#b45309", strokeDasharray: "4,3", strokeWidth: 1.2, className: "threshold", title: "text"}),
        count ? Plot.ruleY([0], {stroke: "#cbd5e1"}) : null,
        count ? Plot.areaY(done, {x: "t", y: "value", fill: SERIES_COLOR, fillOpacity: 0.07, curve: "monotone-x"}) : null,
        Plot.lineY(count ? done : defined, {x: "t", y: "value", stroke: SERIES_COLOR, strokeWidth: sparse ? 1 : 1.8,
          strokeOpacity: sparse ? 0.5 : 1, curve: count ? "monotone-x" : "linear", className: "series-line"}),
        sparse ? Plot.dot(defined, {x: "t", y: "value", r: 2, fill: SERIES_COLOR}) : null,
        nothing ? Plot.text([`No ${what} event in this range`], {frameAnchor: "middle", fill: "#64748b", fontSize: 13, className: "no-data"}) : null,
        Plot.dot(partial, {x: "t", y: "value", r: 3, fill: "white", stroke: SERIES_COLOR, strokeDasharray: "2,1.5"}),
        Plot.tip(points, Plot.pointerX({x: "t", y: "value", title: tipText})),
      ].filter(Boolean),
    });
    mount(container, chart);
  }

  // ---------------------------------------------------------------- routing
  // Whether the server checks API keys (GET /healthz says; false with
  // --insecure-no-auth, where the pages open without asking for a key).
  let authRequired = null;
  async function route() {
    if (authRequired === null) {
      const health = await fetch("/healthz", {cache: "no-store"}).then((r) => r.json()).catch(() => ({}));
      authRequired = health.auth_required !== false;
    }
    stopRefresh();
    const key = adminKey();
    if (authRequired && !key) return keyForm();
    document.getElementById("session").hidden = !authRequired;
    const metricsPage = location.pathname === "/metrics";
    for (const a of document.querySelectorAll("header.top nav a")) {
      a.classList.toggle("active", metricsPage ? a.getAttribute("href") === "/metrics" : a.getAttribute("href") === "/experiments");
    }
    if (metricsPage) {
      document.title = "Metrics · Causeway";
      return renderMetrics().catch(fatal);
    }
    const m = location.pathname.match(/^\/experiments\/([A-Za-z0-9_.-]+)\/?$/);
    if (m) {
      document.title = `${m[1]} · Causeway`;
      return renderReport(m[1]).catch(fatal);
    }
    document.title = "Experiments · Causeway";
    return renderList().catch(fatal);
  }
  function fatal(e) {
    console.warn(e);
    showError(main, e, "Something went wrong");
  }

  document.getElementById("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORAGE);
    keyForm();
  });
  route();
})();
