// The web page in real headless Chromium (Debian's `chromium`, driven by
// puppeteer-core, which downloads no browser).
//
//   node web/test/page_test.mjs CAUSEWAY_BINARY SCREENSHOT_DIR
//
// Starts `causeway serve` on a fresh database and a free port with API keys on,
// sends an experiment, metrics and a week of events over HTTP (exposures carry a
// `country` attribute), then opens the list and the report as a person would:
// enters the admin key in the page's form, and checks that the pages raise no
// console error, no page error and no Content-Security-Policy violation, that the
// forest plot and the cumulative chart are drawn with marks, that the segment
// selector changes the segment table, and that the key never appears in a URL.
// Screenshots go to SCREENSHOT_DIR (build/screenshots) for people to look at.
import {spawn} from "node:child_process";
import {mkdirSync, mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import path from "node:path";
import {createRequire} from "node:module";

const require = createRequire(import.meta.url);
const puppeteer = require("puppeteer-core");

const [binary, shotDir] = process.argv.slice(2);
if (!binary || !shotDir) {
  console.error("usage: node page_test.mjs CAUSEWAY_BINARY SCREENSHOT_DIR");
  process.exit(2);
}
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const started = Date.now();
let passed = 0;
const failures = [];
function check(ok, what) {
  if (ok) {
    passed++;
  } else {
    failures.push(what);
    console.error(`FAILED: ${what}`);
  }
}

// ------------------------------------------------------------------ the server
function startServer(dir, extraArgs = [], db = "page.db") {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ["serve", "--host", "127.0.0.1", "--port", "0", "--db", path.join(dir, db), "--threads", "16", ...extraArgs],
      {stdio: ["ignore", "pipe", "pipe"]});
    let out = "", err = "", admin = null, sdk = null, port = null;
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}\n${err}`)), 15000);
    const done = () => {
      if (admin && sdk && port) {
        clearTimeout(timer);
        resolve({child, admin, sdk, base: `http://127.0.0.1:${port}`});
      }
    };
    child.stdout.on("data", (d) => {
      out += d;
      admin = admin || (out.match(/admin key: (\S+)/) || [])[1];
      sdk = sdk || (out.match(/sdk\s+key: (\S+)/) || [])[1];
      done();
    });
    child.stderr.on("data", (d) => {
      err += d;
      port = port || (err.match(/"msg":"listening".*?"port":(\d+)/) || [])[1];
      done();
    });
    child.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${err}`)));
  });
}

async function call(server, method, urlPath, key, body) {
  const res = await fetch(server.base + urlPath, {
    method,
    headers: {Authorization: `Bearer ${key}`, "Content-Type": "application/json"},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch (_) {
    json = null;
  }
  return {status: res.status, json, text};
}
async function must(server, method, urlPath, key, body) {
  const r = await call(server, method, urlPath, key, body);
  if (r.status >= 300) throw new Error(`${method} ${urlPath}: ${r.status} ${r.text}`);
  return r.json;
}

// Seeded generator (mulberry32), so every run sends the same events.
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// An experiment with roles and a plan when the server knows them (the report
// contract of issue 11); an older server refuses those fields and gets the plain one.
async function createExperiment(server) {
  const base = {
    key: "checkout-button",
    name: "Checkout button colour",
    variants: [{key: "control", weight: 0.5}, {key: "treatment", weight: 0.5}],
    status: "running",
  };
  const roles = {
    goal_metrics: ["purchase"],
    secondary_metrics: ["pageviews"],
    guardrail_metrics: [{metric: "revenue", margin: 0.05}],
    planned_sample_size: 5000,
  };
  const r = await call(server, "POST", "/v1/experiments", server.admin, {...base, ...roles});
  if (r.status === 201) return true;
  if (r.status === 400 && r.json && Object.keys(roles).includes(r.json.error.field)) {
    console.log(`note: this server has no metric roles yet (${r.json.error.message}); plain experiment`);
    await must(server, "POST", "/v1/experiments", server.admin, base);
    return false;
  }
  throw new Error(`POST /v1/experiments: ${r.status} ${r.text}`);
}

async function seed(server) {
  for (const m of [
    {key: "purchase", type: "binomial", event: "purchase"},
    {key: "revenue", type: "mean", event: "purchase"},
    {key: "pageviews", type: "count", event: "pageview"},
  ]) {
    await must(server, "POST", "/v1/metrics", server.admin, m);
  }
  const roles = await createExperiment(server);
  await must(server, "POST", "/v1/experiments", server.admin, {
    key: "empty-experiment", name: "Not started yet",
    variants: [{key: "control", weight: 0.5}, {key: "treatment", weight: 0.5}], status: "running",
  });

  // 3 000 users over 7 days; treatment lifts purchases from 10 % to 14 %.
  const random = rng(20261123);
  const day = 24 * 3600 * 1000;
  const start = Date.now() - 7 * day;
  const countries = ["US", "US", "US", "US", "US", "DE", "DE", "DE", "FR", "FR"];
  const events = [];
  let id = 0;
  for (let u = 0; u < 3000; u++) {
    const user = `u${u}`;
    const variant = random() < 0.5 ? "control" : "treatment";
    const ts = start + Math.floor((u / 3000) * 6.5 * day) + Math.floor(random() * 3600 * 1000);
    const country = countries[Math.floor(random() * countries.length)];
    events.push({type: "exposure", id: `x${id++}`, experiment: "checkout-button", user, variant, ts, attributes: {country}});
    // A pre-period purchase for some (CUPED's covariate; not counted as an outcome).
    if (random() < 0.2) events.push({type: "conversion", id: `c${id++}`, user, event: "purchase", value: 20 + 40 * random(), ts: ts - 3 * day});
    const p = variant === "treatment" ? 0.14 : 0.1;
    if (random() < p) events.push({type: "conversion", id: `c${id++}`, user, event: "purchase", value: 20 + 60 * random(), ts: ts + 3600 * 1000});
    const views = Math.floor(random() * 4);
    for (let k = 0; k < views; k++) events.push({type: "conversion", id: `c${id++}`, user, event: "pageview", ts: ts + (k + 1) * 60000});
  }
  for (let i = 0; i < events.length; i += 5000) {
    await must(server, "POST", "/v1/events", server.sdk, {events: events.slice(i, i + 5000)});
  }
  return {roles, events: events.length};
}

// Alerting data for the metrics page and the health badges (issue 21): a count
// metric and a mean metric with six hours of events, two bursts of the count (one
// over, one still going on), a threshold rule on it, evaluated every 5 minutes of
// the last hour so that it fired, resolved and fires again; an experiment with a
// sample ratio mismatch. The server runs with --no-monitor-scheduler, so these
// evaluations are the only ones and the states are deterministic.
const MINUTE = 60000;
async function evaluate(server, query) {
  const r = await must(server, "POST", `/v1/monitors/evaluate?${query}`, server.admin);
  if (r.errors && r.errors.length) throw new Error(`evaluate ${query}: ${r.errors.join("; ")}`);
  return r;
}
async function seedAlerts(server) {
  await must(server, "POST", "/v1/metrics", server.admin, {key: "checkouts", name: "Checkouts", type: "count", event: "checkout"});
  await must(server, "POST", "/v1/metrics", server.admin, {key: "order_value", name: "Order value", type: "mean", event: "checkout"});
  const random = rng(2027);
  const T = Math.floor(Date.now() / MINUTE) * MINUTE;
  // Per minute: 2–3 checkouts, 15 during the bursts [T−50, T−30) and [T−14, now).
  const events = [];
  for (let minute = T - 360 * MINUTE; minute <= T; minute += MINUTE) {
    const burst = (minute >= T - 50 * MINUTE && minute < T - 30 * MINUTE) || minute >= T - 14 * MINUTE;
    const n = burst ? 15 : 2 + (random() < 0.5 ? 1 : 0);
    for (let k = 0; k < n; k++) {
      const ts = Math.min(minute + Math.floor(random() * MINUTE), Date.now() - 1);
      events.push({type: "conversion", id: `k${events.length}`, user: `k${Math.floor(random() * 500)}`, event: "checkout", value: 30 + 40 * random(), ts});
    }
  }
  await must(server, "POST", "/v1/events", server.sdk, {events});
  await must(server, "POST", "/v1/alerts/rules", server.admin, {
    key: "checkout_spike", metric: "checkouts", description: "more than 8 checkouts a minute over 15 minutes",
    window: "15m", for: "5m", condition: {type: "threshold", op: "above", value: 8}});
  // Oldest first: an evaluation before a stored later one is not stored.
  const states = [];
  for (let at = T - 60 * MINUTE; at <= T; at += 5 * MINUTE) {
    const r = await evaluate(server, `as_of=${at}&subject=rule:checkout_spike`);
    states.push(r.monitors.map((m) => m.state).join());
  }

  // 700 users in control and 300 in treatment of a 50/50 experiment: SRM.
  await must(server, "POST", "/v1/experiments", server.admin, {
    key: "srm-check", name: "Pricing page (broken split)",
    variants: [{key: "control", weight: 0.5}, {key: "treatment", weight: 0.5}], status: "running"});
  const exposures = [];
  for (let u = 0; u < 1000; u++) {
    exposures.push({type: "exposure", id: `s${u}`, experiment: "srm-check", user: `s${u}`,
      variant: u < 700 ? "control" : "treatment", ts: Date.now() - 3 * 3600 * 1000 + u * 1000});
  }
  await must(server, "POST", "/v1/events", server.sdk, {events: exposures});
  await evaluate(server, "subject=experiment:checkout-button");
  await evaluate(server, "subject=experiment:srm-check");
  return {states, checkouts: events.length};
}

// Listeners that collect what a page complains about.
function watch(page, problems, urls) {
  page.on("console", (m) => {
    if (["error", "warn", "warning"].includes(m.type())) problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure() && r.failure().errorText}`));
  page.on("request", (r) => urls.push(r.url()));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`);
  });
  return page.evaluateOnNewDocument(() => {
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
}

// The metrics page in a new tab (its own sessionStorage: it asks for the key).
async function checkMetricsPage(browser, server, alerting) {
  const page = await browser.newPage();
  page.setDefaultTimeout(60000);
  const problems = [];
  const urls = [];
  try {
    await watch(page, problems, urls);
    await page.setViewport({width: 1280, height: 900, deviceScaleFactor: 1});
    // #refresh=2: the page refreshes every 2 s instead of every minute.
    await page.goto(`${server.base}/metrics#refresh=2`, {waitUntil: "networkidle0"});
    check(await page.$("#key-input") !== null, "the metrics page asks for an admin key in a new tab");
    await page.type("#key-input", server.admin);
    await Promise.all([page.click("form#key button[type=submit]"),
      page.waitForSelector('.metric-card[data-metric="checkouts"] .metric-chart svg')]);
    check(await page.$eval("header.top nav a.active", (a) => a.getAttribute("href")) === "/metrics", "the navigation marks Metrics");
    await page.waitForFunction(() => [...document.querySelectorAll(".metric-card")].every((c) => c.querySelector("svg, .empty, .callout")));
    const cards = await page.$$eval(".metric-card", (cs) => cs.map((c) => ({
      metric: c.dataset.metric,
      lines: c.querySelectorAll("svg g.series-line path").length,
      firing: c.querySelectorAll("svg g.firing-period rect").length,
      thresholds: c.querySelectorAll("svg g.threshold line").length,
    })));
    const shown = cards.map((c) => c.metric).sort();
    check(["checkouts", "order_value", "pageviews", "revenue"].every((k) => shown.includes(k)) && !shown.includes("purchase"),
      `a chart per metric with a series, none for the binomial one (${shown})`);
    check(cards.every((c) => c.lines === 1), `every chart has its line (${JSON.stringify(cards)})`);
    const checkouts = cards.find((c) => c.metric === "checkouts");
    check(checkouts.firing === 2 && checkouts.thresholds === 1, `the rule's two firing periods are shaded and its threshold drawn (${JSON.stringify(checkouts)})`);
    check(cards.filter((c) => c.metric !== "checkouts").every((c) => c.firing === 0), "no shading on metrics without a rule");
    check(await page.$eval('#metrics-choose input[value="purchase"]', (b) => b.disabled && !b.checked), "a binomial metric cannot be chosen");
    const rule = await page.$eval('#rules-table tr[data-rule="checkout_spike"]', (r) => ({state: r.dataset.state, text: r.innerText}));
    check(rule.state === "firing" && /Firing/.test(rule.text) && /above 8 per minute over 15m/.test(rule.text),
      `the rule list shows the rule firing with its condition (${JSON.stringify(rule)}; evaluations: ${alerting.states.join(" ")})`);
    // Hovering the chart shows the bucket's tooltip.
    const box = await (await page.$('.metric-card[data-metric="checkouts"] svg')).boundingBox();
    await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2);
    await page.waitForSelector('.metric-card[data-metric="checkouts"] svg [aria-label="tip"] text');
    check(true, "a metric chart shows a tooltip on hover");
    await page.mouse.move(0, 0);

    // It refreshes by itself.
    const seriesCalls = () => urls.filter((u) => u.includes("/v1/metrics/checkouts/series")).length;
    const before = seriesCalls();
    await page.waitForFunction(() => /updated/.test(document.querySelector("#metrics-updated").innerText));
    await new Promise((r) => setTimeout(r, 4500));
    check(seriesCalls() >= before + 1, `the page refreshes (series requests ${before} → ${seriesCalls()})`);

    // The range control re-requests at another step.
    // The default range (24 h) is also at 5 minutes: wait for a request whose span is 6 hours.
    const spanOf = (u) => Number(u.searchParams.get("to")) - Number(u.searchParams.get("from"));
    const sixHourRequests = () => urls.filter((u) => u.includes("/v1/metrics/checkouts/series") && u.includes("step=5m"))
      .map((u) => new URL(u)).filter((u) => spanOf(u) === 6 * 3600 * 1000);
    await page.select("#metrics-range", "6h");
    for (let waited = 0; sixHourRequests().length === 0 && waited < 30000; waited += 100) await new Promise((r) => setTimeout(r, 100));
    await page.waitForFunction(() => /updated/.test(document.querySelector("#metrics-updated").innerText));
    const lastSpans = urls.filter((u) => u.includes("/v1/metrics/checkouts/series")).slice(-1).map((u) => spanOf(new URL(u)));
    check(sixHourRequests().length > 0 && lastSpans[0] === 6 * 3600 * 1000,
      `the range control asks for 6 hours at 5 minutes (last series request spans ${lastSpans[0]} ms)`);
    // Unticking a metric removes its chart and is remembered.
    await page.click('#metrics-choose input[value="pageviews"]');
    await page.waitForFunction(() => !document.querySelector('.metric-card[data-metric="pageviews"]'));
    check(true, "unticking a metric removes its chart");
    await page.reload({waitUntil: "networkidle0"});
    await page.waitForSelector('.metric-card[data-metric="checkouts"] g.firing-period rect');
    check(await page.$('.metric-card[data-metric="pageviews"]') === null &&
      await page.$eval("#metrics-range", (s) => s.value) === "6h", "the chosen metrics and range are remembered");
    await page.click('#metrics-choose input[value="pageviews"]');
    await page.waitForSelector('.metric-card[data-metric="pageviews"] svg');
    await page.waitForFunction(() => [...document.querySelectorAll(".metric-card")].every((c) => c.querySelector("svg")));
    await page.screenshot({path: path.join(shotDir, "metrics.png"), fullPage: true});

    const csp = await page.evaluate(() => window.__csp);
    check(csp.length === 0, `metrics page: no Content-Security-Policy violation (${csp})`);
    check(problems.length === 0, `metrics page: no console error, page error or failed request:\n  ${problems.join("\n  ")}`);
    check(urls.every((u) => !u.includes(server.admin)), "metrics page: the key never goes into a URL");
  } catch (e) {
    console.error(`metrics page problems so far:\n  ${problems.join("\n  ")}`);
    await page.screenshot({path: path.join(shotDir, "metrics-failure.png"), fullPage: true}).catch(() => {});
    throw e;
  } finally {
    await page.close();
  }
  // Prometheus (no text/html in Accept) still gets its text; a browser gets the page.
  const prom = await fetch(`${server.base}/metrics`, {headers: {Accept: "text/plain"}});
  const promText = await prom.text();
  check(prom.status === 200 && promText.includes("# HELP") && !promText.includes("<html"), "GET /metrics without text/html answers Prometheus text");
  const html = await fetch(`${server.base}/metrics`, {headers: {Accept: "text/html,application/xhtml+xml"}});
  check((html.headers.get("content-type") || "").startsWith("text/html"), "GET /metrics for a browser answers the page");
}

// ------------------------------------------------------------------ the browser
// A server started with --insecure-no-auth: the pages open directly, with no key
// form and no sign-out button, and list what the server has.
async function checkWithoutAuth(browser, dir) {
  const server = await startServer(dir, ["--insecure-no-auth"], "no-auth.db");
  const page = await browser.newPage();
  const problems = [];
  try {
    await must(server, "POST", "/v1/experiments", "", {
      key: "checkout-button", variants: [{key: "control"}, {key: "treatment"}], status: "running"});
    page.on("console", (m) => {
      if (["error", "warn", "warning"].includes(m.type())) problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    await page.setViewport({width: 1280, height: 700, deviceScaleFactor: 1});
    await page.goto(`${server.base}/experiments`, {waitUntil: "networkidle0"});
    await page.waitForSelector("table.list tbody tr");
    check(await page.$("#key-input") === null, "without auth the page asks for no key");
    check(await page.$eval("#session", (e) => e.hidden), "without auth there is no sign-out button");
    const rows = await page.$$eval("table.list tbody tr", (r) => r.map((x) => x.dataset.key));
    check(rows.includes("checkout-button"), `without auth the list shows the experiments (${rows})`);
    await page.screenshot({path: path.join(shotDir, "experiments-no-auth.png")});
    check(problems.length === 0, `without auth: no console error or page error:\n  ${problems.join("\n  ")}`);
  } finally {
    await page.close();
    server.child.kill("SIGTERM");
  }
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), "causeway-page-"));
  mkdirSync(shotDir, {recursive: true});
  const server = await startServer(dir, ["--no-monitor-scheduler"]);
  let browser = null;
  let page = null;
  const problems = [];
  try {
    const seeded = await seed(server);
    const alerting = await seedAlerts(server);
    console.log(`rule states at the evaluations of the last hour: ${alerting.states.join(" ")}`);
    const segmentsServed = await call(server, "GET", "/v1/experiments/checkout-button/report?segment=country", server.admin);
    const serverSegments = segmentsServed.status === 200 && segmentsServed.json && segmentsServed.json.segments;
    console.log(`seeded ${seeded.events} events in ${Date.now() - started} ms; segments served: ${!!serverSegments}`);

    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--font-render-hinting=none"],
    });
    page = await browser.newPage();
    page.setDefaultTimeout(60000);  // a loaded CI machine runs other tests beside this one
    await page.setViewport({width: 1280, height: 900, deviceScaleFactor: 1});
    const urls = [];
    page.on("console", (m) => {
      // A server without segments answers segment= with 400, which Chromium logs.
      const expected = !serverSegments && /status of 400/.test(m.text()) && /segment=/.test((m.location() || {}).url || "");
      if (!expected && ["error", "warn", "warning"].includes(m.type())) problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure() && r.failure().errorText}`));
    page.on("request", (r) => urls.push(r.url()));
    page.on("response", (r) => {
      if (r.status() >= 400 && !(r.url().includes("segment=") && !serverSegments)) problems.push(`HTTP ${r.status()} ${r.url()}`);
    });
    // Violations of the Content-Security-Policy are counted in the page.
    await page.evaluateOnNewDocument(() => {
      window.__csp = [];
      document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    });

    // The list: asks for the key once.
    await page.goto(`${server.base}/experiments`, {waitUntil: "networkidle0"});
    check(await page.$("#key-input") !== null, "the page asks for an admin key");
    await page.type("#key-input", server.admin);
    await Promise.all([page.click("form#key button[type=submit]"), page.waitForSelector("table.list .health .badge")]);
    await page.waitForFunction(() => [...document.querySelectorAll("table.list .health")].every((c) => c.querySelector(".badge")));
    const health = await page.$$eval("table.list tbody tr", (rows) => Object.fromEntries(rows.map((r) => [r.dataset.key, r.querySelector(".health").innerText.trim()])));
    check(health["checkout-button"] === "Healthy", `checkout-button is healthy (got ${health["checkout-button"]})`);
    check(health["empty-experiment"] === "No exposures", `empty-experiment has no exposures (got ${health["empty-experiment"]})`);
    // The monitors' badge: evaluated experiments have a verdict, the other reads "Not evaluated".
    const monitors = await page.$$eval("table.list tbody tr", (rows) => Object.fromEntries(rows.map((r) => {
      const b = r.querySelector(".monitors .badge");
      return [r.dataset.key, b ? `${b.dataset.status}|${b.innerText.trim()}` : ""];
    })));
    check(/^(healthy|warning)\|/.test(monitors["checkout-button"]), `checkout-button has a monitor verdict (${monitors["checkout-button"]})`);
    check(monitors["srm-check"] === "unhealthy|Alert: SRM", `srm-check shows its SRM alert (${monitors["srm-check"]})`);
    check(monitors["empty-experiment"] === "unknown|Not evaluated", `empty-experiment is not evaluated (${monitors["empty-experiment"]})`);
    await page.screenshot({path: path.join(shotDir, "experiments.png")});

    // The report, opened from the list: the key stays in sessionStorage, not in the URL.
    await Promise.all([page.waitForNavigation({waitUntil: "networkidle0"}), page.click('a[href="/experiments/checkout-button"]')]);
    check(await page.$("#key-input") === null, "the key is asked once per session, not per page");
    await page.waitForSelector("#forest svg");
    await page.waitForSelector("#series svg, #series .empty");
    const badge = await page.$eval(".head .meta .monitor-health", (b) => b.dataset.status);
    check(badge === "healthy" || badge === "warning", `the report has the monitors' badge (${badge})`);
    check(await page.$$eval("#health .monitor", (m) => m.length) >= 3, "the report lists the monitors' states");
    const decisions = await page.$$eval(".decision", (ds) => ds.map((d) => d.innerText.replace(/\s+/g, " ")));
    check(decisions.length >= 1 && decisions.every((d) => d.length > 10), `a decision line with its reason (${decisions.join(" | ")})`);
    const forest = await page.$$eval("#forest svg", (svgs) => svgs.map((s) => ({dots: s.querySelectorAll("circle").length, rules: s.querySelectorAll("line").length})));
    check(forest.length === 1 && forest[0].dots >= 3 && forest[0].rules >= 3, `forest plot drawn with a dot and an interval per metric (${JSON.stringify(forest)})`);
    // Pointing at a row shows its tooltip (Plot's tip mark), within the page's policy.
    // hover() scrolls the dot into the viewport first (the plot may be below the fold).
    await (await page.$("#forest svg circle")).hover();
    await page.waitForSelector('#forest svg [aria-label="tip"] text');
    check(true, "the forest plot's tooltip appears on hover");
    const hasSeries = await call(server, "GET", "/v1/experiments/checkout-button/report", server.admin)
      .then((r) => (r.json.metrics || []).some((m) => Array.isArray(m.series) && m.series.length));
    // The chart may be drawn again once the whole report is in: wait for its points.
    if (hasSeries) {
      await page.waitForFunction(() => document.querySelectorAll("#series svg circle").length >= 3,
                                 {timeout: 15000}).catch(() => {});
    }
    const series = await page.$$eval("#series svg", (svgs) => svgs.map((s) => ({paths: s.querySelectorAll("path").length, dots: s.querySelectorAll("circle").length})));
    if (hasSeries) {
      check(series.length === 1 && series[0].paths >= 2 && series[0].dots >= 3, `cumulative chart drawn with its band, line and daily points (${JSON.stringify(series)})`);
      // The metric selector redraws the chart.
      const options = await page.$$eval("#series-metric option", (o) => o.map((x) => x.value));
      if (options.length > 1) {
        const before = await page.$eval("#series svg", (s) => s.outerHTML.length);
        await page.select("#series-metric", options[1]);
        await page.waitForFunction((n) => document.querySelector("#series svg") && document.querySelector("#series svg").outerHTML.length !== n, {}, before);
        check(page.url().includes(`metric=${options[1]}`), "the chosen metric is kept in the URL's fragment");
      }
    } else {
      console.log("note: this server's report has no daily series; the chart shows its empty state");
      check(await page.$("#series .empty") !== null, "without a series, the cumulative chart says so");
    }
    const roleGroups = await page.$$eval("#metrics-table tr.group", (g) => g.map((x) => x.innerText.trim()));
    const groups = roleGroups.join("|").toLowerCase();  // innerText follows CSS text-transform
    if (seeded.roles) check(groups.includes("goal") && groups.includes("guardrails"), `metrics grouped by role (${roleGroups})`);
    const metricRows = await page.$$eval("#metrics-table tbody tr[data-metric]", (r) => r.length);
    check(metricRows >= 3, `metrics table has a row per metric × treatment (${metricRows})`);

    // The segment selector re-requests the report and changes the table.
    const segmentsBefore = await page.$eval("#segments", (s) => s.innerText);
    const hasCountry = await page.$$eval("#segment option", (o) => o.some((x) => x.value === "country"));
    // A fresh browser has nothing saved: the option comes from the report's `attributes`.
    check(hasCountry || !serverSegments, "the segment selector lists the attributes sent with exposures");
    if (hasCountry) {
      await page.select("#segment", "country");
    } else {
      await page.select("#segment", "__other");
      await page.type("#segment-attribute", "country");
      await page.click("form.controls button[type=submit]");
    }
    await page.waitForSelector("#segment-table, #segments .callout");
    const segmentsAfter = await page.$eval("#segments", (s) => s.innerText);
    check(segmentsAfter !== segmentsBefore, "the segment selector changes the segment table");
    if (serverSegments) {
      const levels = await page.$$eval("#segment-table tbody tr[data-segment]", (r) => [...new Set(r.map((x) => x.dataset.segment))]);
      check(["US", "DE", "FR"].every((c) => levels.includes(c)), `a row per country (${levels})`);
      await page.waitForSelector("#segment-forest svg");
      check(page.url().includes("segment=country"), "the segment is kept in the URL's fragment");
      // Back to none: the table goes.
      await page.select("#segment", "");
      await page.waitForFunction(() => !document.querySelector("#segment-table"));
      check(true, "choosing no segment removes the table");
      await page.select("#segment", "country");
      await page.waitForSelector("#segment-table");
    } else {
      console.log("note: this server's report cannot segment yet; the page shows its error");
      check(segmentsAfter.includes("Cannot segment by country"), "an unsupported segment is explained, not an error");
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({path: path.join(shotDir, "experiment.png"), fullPage: true});

    // An experiment with no exposures renders, and says so.
    await page.goto(`${server.base}/experiments/empty-experiment`, {waitUntil: "networkidle0"});
    await page.waitForSelector(".decisions");
    const emptyText = await page.$eval("main", (m) => m.innerText);
    check(/no exposure/i.test(emptyText), "an experiment without exposures says so");
    await page.screenshot({path: path.join(shotDir, "experiment-empty.png"), fullPage: true});
    check(await page.$eval("#health", (h) => h.dataset.status) === "unknown", "an experiment never evaluated says so in its health");

    // An experiment with an SRM alert: the badge and the alert on its report.
    await page.goto(`${server.base}/experiments/srm-check`, {waitUntil: "networkidle0"});
    await page.waitForSelector("#health");
    const srm = await page.$$eval("#recent-alerts li", (l) => l.map((x) => `${x.dataset.monitor}:${x.dataset.state}`));
    check(srm.includes("srm:firing"), `the report lists the SRM alert (${srm})`);
    check(await page.$eval(".head .meta .monitor-health", (b) => b.innerText.trim()) === "Alert: SRM", "the report's badge names the firing monitor");
    await page.screenshot({path: path.join(shotDir, "experiment-alert.png"), fullPage: true});

    const csp = await page.evaluate(() => window.__csp);
    check(csp.length === 0, `no Content-Security-Policy violation (${csp})`);
    check(problems.length === 0, `no console error, page error or failed request:\n  ${problems.join("\n  ")}`);
    const leaked = urls.filter((u) => u.includes(server.admin));
    check(leaked.length === 0, `the key never goes into a URL (${leaked})`);
    check(await page.evaluate(() => sessionStorage.getItem("causeway.admin_key") !== null), "the key is kept in sessionStorage");

    // The headers the page is served with.
    const res = await fetch(`${server.base}/experiments/checkout-button`);
    const policy = res.headers.get("content-security-policy") || "";
    check(res.status === 200 && (res.headers.get("content-type") || "").startsWith("text/html"), "the page is HTML");
    check(policy.includes("default-src 'self'") && !policy.includes("unsafe"), `a self-only Content-Security-Policy (${policy})`);
    const js = await fetch(`${server.base}/static/plot.umd.min.js`);
    check(js.status === 200 && (js.headers.get("content-type") || "").startsWith("text/javascript"), "the chart library is served by the binary");
    const again = await fetch(`${server.base}/static/plot.umd.min.js`, {headers: {"If-None-Match": js.headers.get("etag")}});
    check(again.status === 304, "assets revalidate by ETag");

    await checkMetricsPage(browser, server, alerting);
    await checkWithoutAuth(browser, dir);
  } catch (e) {
    // What the page said before it failed, and what it showed.
    console.error(`page problems so far:\n  ${problems.join("\n  ")}`);
    if (page) await page.screenshot({path: path.join(shotDir, "failure.png"), fullPage: true}).catch(() => {});
    throw e;
  } finally {
    if (browser) await browser.close();
    server.child.kill("SIGTERM");
    rmSync(dir, {recursive: true, force: true});
  }
}

main().then(() => {
  console.log(`${passed} passed, ${failures.length} failed (${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${shotDir})`);
  process.exit(failures.length ? 1 : 0);
}, (e) => {
  console.error(e);
  process.exit(1);
});
