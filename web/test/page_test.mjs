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
  const server = await startServer(dir);
  let browser = null;
  let page = null;
  const problems = [];
  try {
    const seeded = await seed(server);
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
    await page.screenshot({path: path.join(shotDir, "experiments.png")});

    // The report, opened from the list: the key stays in sessionStorage, not in the URL.
    await Promise.all([page.waitForNavigation({waitUntil: "networkidle0"}), page.click('a[href="/experiments/checkout-button"]')]);
    check(await page.$("#key-input") === null, "the key is asked once per session, not per page");
    await page.waitForSelector("#forest svg");
    await page.waitForSelector("#series svg, #series .empty");
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
