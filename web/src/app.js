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
        el("td.small.muted", isNum(x.phase) && x.phase > 1 ? `phase ${x.phase}` : ""));
      row._experiment = x;
      return row;
    });
    const table = el("table.list",
      el("thead", el("tr", el("th", "Experiment"), el("th", "Status"), el("th", "Variants"),
        el("th.num", "Exposed users"), el("th", "Health"), el("th", ""))),
      el("tbody", rows));
    section.append(table);
    section.querySelector("input.filter").addEventListener("input", (ev) => {
      const q = ev.target.value.trim().toLowerCase();
      for (const r of rows) {
        const x = r._experiment;
        r.hidden = q !== "" && !`${x.key} ${x.name || ""}`.toLowerCase().includes(q);
      }
    });
    const summaries = await mapLimited(experiments, 6, (x) => api(`/v1/experiments/${encodeURIComponent(x.key)}/exposures`));
    summaries.forEach((s, i) => {
      const row = rows[i];
      const h = health(s);
      clear(row.querySelector(".health")).append(el(`span.badge.${h.cls}`, {title: h.title}, h.text));
      const users = s instanceof Error ? null : s && s.unique_users;
      clear(row.querySelector(".users")).append(fmtInt(users));
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
    const [config, report] = await Promise.all([
      api(`/v1/experiments/${enc}`).catch((e) => e),
      api(`/v1/experiments/${enc}/report`).catch((e) => e),
    ]);
    if (report instanceof Error) {
      if (!handleAuth(report)) showError(page, report, `Could not load the report of ${key}`);
      return;
    }
    const cfg = config instanceof Error ? {} : config || {};
    clear(page);
    const metrics = Array.isArray(report.metrics) ? report.metrics : [];
    const treatments = treatmentsOf(report, metrics);

    append(page, headerSection(key, cfg, report), decisionSection(report, treatments), notesSection(report),
      summarySection(report));

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

  function headerSection(key, cfg, report) {
    const since = report.since ? `since ${fmtDate(report.since)}` : null;
    return el("section.head",
      el("div",
        el("a.back.small", {href: "/experiments"}, "← Experiments"),
        el("h1", cfg.name || key),
        el("div.meta", el("span.mono", key), statusPill(report.status || cfg.status),
          isNum(report.phase) ? el("span", `phase ${report.phase}`) : null, since ? el("span", since) : null,
          report.control ? el("span", `control: ${report.control}`) : null)),
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

  // ---------------------------------------------------------------- routing
  // Whether the server checks API keys (GET /healthz says; false with
  // --insecure-no-auth, where the pages open without asking for a key).
  let authRequired = null;
  async function route() {
    if (authRequired === null) {
      const health = await fetch("/healthz", {cache: "no-store"}).then((r) => r.json()).catch(() => ({}));
      authRequired = health.auth_required !== false;
    }
    const key = adminKey();
    if (authRequired && !key) return keyForm();
    document.getElementById("session").hidden = !authRequired;
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
