// GrowthBook's JavaScript SDK against a live Causeway, end to end (docs/sdk.md, issue
// 22): the npm package `@growthbook/growthbook` (1.8.0, pinned by web/package-lock.json)
// is pointed at a real `causeway serve` (apiHost + a client key) and must agree with
// Causeway's own answers.
//
//   node web/test/sdk_test.mjs path/to/causeway
//
// Cases:
// 1. 30 features x 1000 users (ASCII, CJK, accented, Cyrillic and emoji ids, each with
//    attributes): the SDK's value, source, rule and variant equal
//    GET /v1/features/{key}/evaluate case by case, and every experiment result equals
//    POST /v1/assign (variant, hash, the feature's value). Force rules with conditions
//    and coverage, rollouts, experiments with 2 and 3 variants, unequal weights,
//    coverage, a condition, a namespace split between two experiments, hash versions 1
//    and 2, a second phase, overrides, draft and stopped experiments.
// 2. The SDK's trackingCallback batches exposures to POST /v1/events with the client
//    key; GET /v1/experiments/{key}/exposures then counts exactly the users the SDK
//    exposed, per variant. A conversion sent with the client key: 403 naming
//    events[i].type, and nothing of its batch stored.
// 3. Streaming (/sub/{clientKey}, the npm `eventsource` package as the SDK's
//    EventSource): a PATCH reaches a streaming SDK in under 2 s (latency printed).
// 4. An encrypted payload (a client key with encrypt_payload) evaluates as the plain
//    one with the decryptionKey; with a wrong decryptionKey the SDK gets no features.
// 5. ETag / If-None-Match: 304 for an unchanged payload, 200 after a change.
// 6. A revoked client key: the payload and the stream answer 401 at once.
// A deleted feature leaves the streaming SDK (dateUpdated moves); a stream opened
// before its key was revoked ends. Prints the figures and "N passed, M failed";
// exits 1 on any failure.
import {spawn} from "node:child_process";
import http from "node:http";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import path from "node:path";
import {GrowthBook, setPolyfills, clearCache} from "@growthbook/growthbook";
import {EventSource} from "eventsource";

const binary = process.argv[2];
if (!binary) {
  console.error("usage: node sdk_test.mjs path/to/causeway");
  process.exit(2);
}

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
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(predicate, ms, step = 5) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await predicate()) return true;
    await sleep(step);
  }
  return predicate();
}
// Runs fn over items with at most n in flight (keep-alive connections are reused).
async function pool(items, n, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({length: Math.min(n, items.length)}, worker));
}
// JSON with sorted object keys, to compare values.
function canon(v) {
  if (Array.isArray(v)) return `[${v.map(canon).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v === undefined ? null : v);
}

// ------------------------------------------------------------------ causeway
function startServer(db) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ["serve", "--host", "127.0.0.1", "--port", "0", "--db", db,
      "--threads", "4", "--config-poll-ms", "0", "--no-monitor-scheduler"],
    {stdio: ["ignore", "pipe", "pipe"]});
    let out = "", err = "", port = null;
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}\n${err}`)), 15000);
    const keys = {};
    child.stdout.on("data", (d) => {
      out += d;
      for (const m of out.matchAll(/(admin|sdk)\s+key: (\S+)/g)) keys[m[1]] = m[2];
    });
    child.stderr.on("data", (d) => {
      err += d;
      port = port || (err.match(/"msg":"listening".*?"port":(\d+)/) || [])[1];
      if (port && keys.admin && keys.sdk) {
        clearTimeout(timer);
        resolve({child, keys, base: `http://127.0.0.1:${port}`});
      }
    });
    child.on("exit", (code) => { if (!port) reject(new Error(`server exited with ${code}:\n${err}`)); });
  });
}

let base = "";
// node:http with keep-alive sockets, at most 16: several times the requests per second
// of Node 20's fetch for the 31 000 evaluate and assign calls. (The SDK uses fetch.)
const agent = new http.Agent({keepAlive: true, maxSockets: 16, maxTotalSockets: 16});
function call(method, urlPath, key, body, headers = {}) {
  const h = {...headers};
  if (key) h.Authorization = `Bearer ${key}`;
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  if (data) Object.assign(h, {"Content-Type": "application/json", "Content-Length": data.length});
  return new Promise((resolve, reject) => {
    const req = http.request(base + urlPath, {method, headers: h, agent}, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({status: res.statusCode, json, text, headers: {get: (n) => res.headers[n.toLowerCase()] ?? null}});
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(10000, () => req.destroy(new Error(`${method} ${urlPath}: no answer in 10 s`)));
    req.end(data);
  });
}
async function must(promise, status, what) {
  const r = await promise;
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status} ${r.text}`);
  return r.json;
}

// ------------------------------------------------------------------ users
// mulberry32: deterministic users and attributes.
function Prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = Prng(22022);
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const kPrefixes = ["u", "用户", "é", "😀", "пользователь", "usuário-ñ", "user🚀x"];
const kUsers = 1000;
const users = [];
for (let i = 0; i < kUsers; i++) {
  const id = `${kPrefixes[i % kPrefixes.length]}-${i}`;
  const a = {
    id,
    country: pick(["FR", "US", "CA", "DE", "JP", "BR"]),
    plan: pick(["free", "pro", "enterprise"]),
    age: 13 + Math.floor(rand() * 68),
    beta: rand() < 0.3,
    email: `${pick(["ann", "bo", "chen"])}${i}@${pick(["gmail.com", "example.org", "gmail.com.evil"])}`,
    app_version: pick(["1.9.0", "2.2.9", "2.3.0", "2.10.1", "3.0.0-beta"]),
    tags: ["vip", "new", "mobile"].filter(() => rand() < 0.4),
  };
  const c = rand();  // company: absent, "", 0, a number or a name (rollout on it)
  if (c < 0.2) { /* absent */ } else if (c < 0.25) a.company = ""; else if (c < 0.3) a.company = 0;
  else if (c < 0.4) a.company = 1000 + i; else a.company = `acme-${i % 37}`;
  users.push(a);
}
const U = (i) => users[i].id;

// ------------------------------------------------------------------ definitions
const V = (...keys) => keys.map((key) => ({key}));
const VW = (pairs) => pairs.map(([key, weight]) => ({key, weight}));
const experiments = [
  {key: "x-two", variants: V("c", "t")},
  {key: "x-three", variants: VW([["a", 0.5], ["b", 0.3], ["c", 0.2]]), coverage: 0.8, hash_version: 1},
  {key: "x-cond", variants: V("c", "t"), coverage: 0.6,
    condition: {country: {$in: ["US", "CA"]}, age: {$gte: 21}}},
  {key: "x-ns-a", variants: VW([["c", 0.4], ["t", 0.6]]), namespace: {name: "checkout", start: 0, end: 0.5}},
  {key: "x-ns-b", variants: V("b0", "b1", "b2"), namespace: {name: "checkout", start: 0.5, end: 1}},
  {key: "x-phase", variants: V("c", "t")},
  {key: "x-override", variants: V("v0", "v1", "v2"), hash_version: 1, seed: "override-seed-é",
    overrides: {[U(3)]: "v2", [U(5)]: "v1", [U(17)]: "v0", [U(42)]: "v2"}},
  {key: "x-draft", variants: V("c", "t"), overrides: {[U(7)]: "t"}},
  {key: "x-stopped", variants: V("c", "t"), overrides: {[U(9)]: "t"}},
  {key: "x-hv1", variants: VW([["c", 0.1], ["t", 0.9]]), coverage: 0.5, hash_version: 1},
];
const running = ["x-two", "x-three", "x-cond", "x-ns-a", "x-ns-b", "x-phase", "x-override", "x-hv1"];

const force = (value, extra = {}) => ({type: "force", value, ...extra});
const rollout = (value, coverage, extra = {}) => ({type: "rollout", value, coverage, ...extra});
const exp = (experiment, values) => ({type: "experiment", experiment, values});
const features = [
  {key: "flag-plain", value_type: "boolean", default_value: true},
  {key: "flag-fr", value_type: "boolean", default_value: false, rules: [force(true, {condition: {country: "FR"}})]},
  {key: "ui-plan", value_type: "string", default_value: "basic",
    rules: [force("premium", {condition: {plan: {$in: ["pro", "enterprise"]}}})]},
  {key: "age-bucket", value_type: "number", default_value: 0, rules: [
    force(1, {condition: {age: {$lt: 18}}}), force(2, {condition: {age: {$gt: 30, $lte: 60}}}),
    force(3.5, {condition: {age: {$gt: 60}}})]},
  {key: "theme-json", value_type: "json", default_value: {theme: "light", items: [1, 2]},
    rules: [force({theme: "dark", items: [], nested: {a: null}}, {condition: {beta: true}})]},
  {key: "force-cov-30", value_type: "boolean", default_value: false, rules: [force(true, {coverage: 0.3})]},
  {key: "force-cov-v2-seed", value_type: "string", default_value: "off",
    rules: [force("on", {coverage: 0.5, hash_version: 2, seed: "custom-seed"})]},
  {key: "force-cov-cond", value_type: "number", default_value: -1,
    rules: [force(42, {condition: {country: {$ne: "US"}}, coverage: 0.7})]},
  {key: "rollout-10", value_type: "boolean", default_value: false, rules: [rollout(true, 0.1)]},
  {key: "rollout-50-v2", value_type: "string", default_value: "old", rules: [rollout("new", 0.5, {hash_version: 2})]},
  {key: "rollout-company", value_type: "boolean", default_value: false,
    rules: [rollout(true, 0.9, {hash_attribute: "company"})]},
  {key: "rollout-0", value_type: "boolean", default_value: false, rules: [rollout(true, 0)]},
  {key: "rollout-100", value_type: "number", default_value: 1.5,
    rules: [rollout(2.5, 1, {condition: {plan: {$nin: ["free"]}}})]},
  {key: "x-two-bool", value_type: "boolean", default_value: false, rules: [exp("x-two", [false, true])]},
  {key: "x-three-str", value_type: "string", default_value: "none", rules: [exp("x-three", ["a", "b", "c"])]},
  {key: "x-three-num", value_type: "number", default_value: 0,
    rules: [force(99, {condition: {country: "JP"}}), exp("x-three", [1, 2, 3])]},
  {key: "x-cond-json", value_type: "json", default_value: null,
    rules: [exp("x-cond", [{layout: "grid"}, {layout: "list"}])]},
  {key: "ns-a-str", value_type: "string", default_value: "none",
    rules: [exp("x-ns-a", ["a0", "a1"]), rollout("fallback", 0.5)]},
  {key: "ns-b-str", value_type: "string", default_value: "none", rules: [exp("x-ns-b", ["b0", "b1", "b2"])]},
  {key: "ns-both", value_type: "number", default_value: 0,
    rules: [exp("x-ns-a", [1, 2]), exp("x-ns-b", [3, 4, 5])]},
  {key: "phase-num", value_type: "number", default_value: 0, rules: [exp("x-phase", [10, 20])]},
  {key: "override-str", value_type: "string", default_value: "none",
    rules: [exp("x-override", ["o0", "o1", "o2"])]},
  {key: "draft-bool", value_type: "boolean", default_value: false,
    rules: [exp("x-draft", [false, true]), force(true, {condition: {plan: "enterprise"}})]},
  {key: "stopped-str", value_type: "string", default_value: "none",
    rules: [exp("x-stopped", ["s0", "s1"]), rollout("r", 0.25, {hash_version: 2})]},
  {key: "hv1-json", value_type: "json", default_value: {v: 0}, rules: [exp("x-hv1", [{v: 1}, {v: 2}])]},
  {key: "mixed", value_type: "string", default_value: "default", rules: [
    force("senior", {condition: {$or: [{country: "JP"}, {age: {$gte: 65}}]}}),
    exp("x-two", ["c", "t"]), rollout("rolled", 0.5)]},
  {key: "email-regex", value_type: "string", default_value: "other",
    rules: [force("gmail", {condition: {email: {$regex: "@gmail\\.com$"}}})]},
  {key: "app-version", value_type: "boolean", default_value: false,
    rules: [force(true, {condition: {app_version: {$vgte: "2.3.0"}}})]},
  {key: "company-exists", value_type: "string", default_value: "has-company", rules: [
    force("no-company", {condition: {company: {$exists: false}}}),
    force("falsy", {condition: {company: {$in: ["", 0]}}})]},
  {key: "tags", value_type: "number", default_value: 0, rules: [
    force(1, {condition: {tags: {$elemMatch: {$eq: "vip"}}}}),
    force(2, {condition: {tags: {$all: ["new", "mobile"]}}}), force(3, {condition: {tags: {$size: 0}}})]},
];

// What the SDK's evalFeature gave, in a comparable form.
function sdkResult(r) {
  const x = r.experimentResult;
  return {value: r.value, source: r.source, ruleId: r.ruleId,
    experiment: r.experiment?.key ?? null, variant: x ? x.key : null,
    variantIndex: x ? x.variationId : null, inExperiment: x ? x.inExperiment : false,
    hashUsed: x ? x.hashUsed : false, bucket: x?.bucket ?? null};
}
// Causeway's evaluate answer against the SDK's result; "" when they agree.
function compareEvaluate(c, s) {
  if (canon(c.value) !== canon(s.value)) return `value ${canon(c.value)} vs SDK ${canon(s.value)}`;
  const ruleIndex = (s.ruleId.match(/^fr_(\d+)/) || [])[1];
  if (c.source === "defaultValue") {
    return s.source === "defaultValue" && c.rule_index === null ? "" : `defaultValue vs SDK ${s.source} ${s.ruleId}`;
  }
  if (String(c.rule_index) !== ruleIndex) return `rule ${c.rule_index} vs SDK ${s.ruleId}`;
  if (c.source === "force") return s.source === "force" && c.experiment === null ? "" : `force vs SDK ${s.source}`;
  if (c.source !== "experiment") return `source ${c.source}`;
  if (!c.in_experiment) {  // an override: a force rule of the payload (docs/sdk.md)
    return s.source === "force" && s.ruleId.startsWith(`fr_${c.rule_index}_override_`) ? ""
      : `override vs SDK ${s.source} ${s.ruleId}`;
  }
  if (s.source !== "experiment" || !s.inExperiment || !s.hashUsed) return `experiment vs SDK ${s.source}`;
  if (c.experiment !== s.experiment || c.variant !== s.variant || c.variant_index !== s.variantIndex) {
    return `variant ${c.experiment}/${c.variant}/${c.variant_index} vs SDK ${s.experiment}/${s.variant}/${s.variantIndex}`;
  }
  return "";
}

// ------------------------------------------------------------------ exposures (the snippet)
// The trackingCallback of docs/sdk.md: exposures batched to POST /v1/events with the
// client key. Every fifth one carries the variation index instead of the variant key.
// One batch in flight at a time, in order (a page or a server process sends few).
function exposureSender(apiHost, clientKey, batchSize = 250) {
  const queue = [], answers = [];
  let chain = Promise.resolve(), n = 0;
  const flush = () => {
    if (queue.length === 0) return;
    const events = queue.splice(0, queue.length);
    chain = chain.then(async () => {
      const res = await fetch(`${apiHost}/v1/events`, {
        method: "POST",
        headers: {Authorization: `Bearer ${clientKey}`, "Content-Type": "application/json"},
        body: JSON.stringify({events}),
      });
      answers.push({status: res.status, body: await res.json(), events});
    });
  };
  return {
    sent: [],
    track(experiment, result) {
      const e = {type: "exposure", id: `${experiment.key}:${result.hashValue}`, experiment: experiment.key,
        user: result.hashValue, variant: n++ % 5 === 0 ? result.variationId : result.key, ts: Date.now()};
      this.sent.push({experiment: experiment.key, user: result.hashValue, variant: result.key});
      queue.push(e);
      if (queue.length >= batchSize) flush();
    },
    async done() {
      flush();
      await chain;
      return answers;
    },
  };
}

// ------------------------------------------------------------------ the run
const dir = mkdtempSync(path.join(tmpdir(), "causeway-sdk-"));
let server = null;
// Every way out kills the server and removes the temp dir: the end of the run, an
// exception, a signal (ctest's timeout), and a watchdog for a hang.
function cleanUp() {
  if (server) server.child.kill("SIGKILL");
  server = null;
  rmSync(dir, {recursive: true, force: true});
}
process.on("exit", cleanUp);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    console.error(`sdk: ${signal}, stopping`);
    process.exit(1);
  });
}
const watchdog = setTimeout(() => {
  console.error("sdk: FAILED: the run took over 120 s");
  console.log(`sdk: ${passed} passed, ${failures.length + 1} failed`);
  process.exit(1);
}, 120000);
watchdog.unref();
const openSources = [];
const instances = [];
const t0 = Date.now();
try {
  server = await startServer(path.join(dir, "sdk.db"));
  base = server.base;
  const admin = server.keys.admin, sdkKey = server.keys.sdk;

  // Experiments: created as drafts, then started (running) by PATCH, except the draft.
  for (const x of experiments) await must(call("POST", "/v1/experiments", admin, x), 201, `create ${x.key}`);
  for (const key of [...running, "x-stopped"]) {
    await must(call("PATCH", `/v1/experiments/${key}`, admin, {status: "running"}), 200, `start ${key}`);
  }
  await must(call("PATCH", "/v1/experiments/x-stopped", admin, {status: "stopped"}), 200, "stop x-stopped");
  // A second phase: new weights re-randomise (a new seed) and need new_phase.
  const refused = await call("PATCH", "/v1/experiments/x-phase", admin, {variants: VW([["c", 0.3], ["t", 0.7]])});
  check(refused.status === 409, `re-randomising a running experiment without new_phase: 409 (${refused.status})`);
  const phased = await must(call("PATCH", "/v1/experiments/x-phase", admin,
    {variants: VW([["c", 0.3], ["t", 0.7]]), new_phase: true}), 200, "new phase");
  check(phased.phase === 2 && phased.phases.length === 2 && phased.seed !== "x-phase",
    `x-phase is in phase 2 with a new seed (${phased.phase}, ${phased.seed})`);

  for (const f of features) await must(call("POST", "/v1/features", admin, f), 201, `create ${f.key}`);
  check(features.length === 30, `${features.length} features defined`);
  const plain = await must(call("POST", "/v1/keys", admin, {scope: "client", name: "web shop"}), 201, "client key");
  const enc = await must(call("POST", "/v1/keys", admin,
    {scope: "client", name: "encrypted", encrypt_payload: true}), 201, "encrypting client key");
  check(plain.key.startsWith("cw_client_") && plain.decryption_key === null,
    "a client key: cw_client_..., no decryption key");
  check(typeof enc.decryption_key === "string" && Buffer.from(enc.decryption_key, "base64").length === 16,
    "an encrypting client key comes with a 16-byte base64 decryption key");

  // ---------------------------------------------------------------- 1. values and variants
  const sender = exposureSender(base, plain.key);
  const gb = new GrowthBook({apiHost: base, clientKey: plain.key,
    trackingCallback: (experiment, result) => sender.track(experiment, result)});
  instances.push(gb);
  const init = await gb.init({timeout: 3000});
  check(init.success && init.source === "network", `the SDK loaded the payload (${JSON.stringify(init)})`);
  check(Object.keys(gb.getFeatures()).length === 30, `the SDK has the 30 features (${Object.keys(gb.getFeatures()).length})`);

  const sdkStart = Date.now();
  const sdk = [];  // sdk[u][f]
  for (const attrs of users) {
    await gb.setAttributes(attrs);
    sdk.push(features.map((f) => sdkResult(gb.evalFeature(f.key))));
  }
  const sdkMs = Date.now() - sdkStart;

  const cases = [];
  users.forEach((u, ui) => features.forEach((f, fi) => cases.push([ui, fi])));
  const evaluated = new Array(cases.length);
  const evalStart = Date.now();
  await pool(cases, 16, async ([ui, fi], i) => {
    const {id, ...attrs} = users[ui];
    const q = `user=${encodeURIComponent(id)}&attributes=${encodeURIComponent(JSON.stringify({id, ...attrs}))}`;
    const r = await call("GET", `/v1/features/${features[fi].key}/evaluate?${q}`, sdkKey);
    evaluated[i] = r.status === 200 ? r.json : {error: `${r.status} ${r.text}`};
  });
  const evalMs = Date.now() - evalStart;

  const assigned = new Array(users.length);
  const assignStart = Date.now();
  await pool(users, 16, async (u, ui) => {
    const r = await call("POST", "/v1/assign", sdkKey,
      {user: u.id, attributes: u, experiments: experiments.map((x) => x.key)});
    assigned[ui] = r.status === 200 ? Object.fromEntries(r.json.assignments.map((a) => [a.experiment, a])) : null;
  });
  const assignMs = Date.now() - assignStart;
  check(assigned.every((a) => a !== null), "POST /v1/assign answered for every user");

  const mismatches = features.map(() => []);
  const sources = {};
  cases.forEach(([ui, fi], i) => {
    const c = evaluated[i], s = sdk[ui][fi];
    const why = c.error ?? compareEvaluate(c, s);
    if (why) mismatches[fi].push(`user ${JSON.stringify(users[ui].id)}: ${why}`);
    sources[c.source] = (sources[c.source] ?? 0) + 1;
  });
  features.forEach((f, fi) => {
    const m = mismatches[fi];
    check(m.length === 0, `${f.key}: the SDK and /v1/features/${f.key}/evaluate agree for all ${users.length} users ` +
      `(${m.length} differ${m.length ? ": " + m.slice(0, 3).join("; ") : ""})`);
  });
  const agreeing = cases.length - mismatches.reduce((n, m) => n + m.length, 0);
  console.log(`evaluations compared: ${cases.length} (${features.length} features x ${users.length} users), ` +
    `${agreeing} agree; sources ${JSON.stringify(sources)}`);
  console.log(`SDK evaluation ${sdkMs} ms; ${cases.length} evaluate calls ${evalMs} ms ` +
    `(${Math.round(cases.length / (evalMs / 1000))}/s, 16 at a time); ${users.length} POST /v1/assign ${assignMs} ms`);

  // Every experiment result of the SDK is /v1/assign's: variant and hash.
  let expResults = 0;
  const assignWrong = [];
  sdk.forEach((row, ui) => row.forEach((s, fi) => {
    if (s.source !== "experiment") return;
    expResults++;
    const a = assigned[ui]?.[s.experiment];
    // /v1/assign also carries the variant's value of each feature using the experiment.
    if (!a || !a.in_experiment || a.variant_index !== s.variantIndex || a.variant !== s.variant ||
        Math.abs(a.hash_value - s.bucket) > 1e-9 || canon(a.features?.[features[fi].key]) !== canon(s.value)) {
      assignWrong.push(`${features[fi].key} user ${JSON.stringify(users[ui].id)}: assign ${JSON.stringify(a)} vs SDK ` +
        `${s.variant}/${s.variantIndex} bucket ${s.bucket}`);
    }
  }));
  check(expResults > 3000 && assignWrong.length === 0,
    `${expResults} SDK experiment results equal /v1/assign's variant, hash and feature value (${assignWrong.length} differ` +
    `${assignWrong.length ? ": " + assignWrong.slice(0, 3).join("; ") : ""})`);
  // Both directions on a feature whose first rule is the experiment: assign in <=> SDK in.
  for (const [fkey, xkey] of [["x-two-bool", "x-two"], ["x-three-str", "x-three"], ["x-cond-json", "x-cond"],
    ["ns-a-str", "x-ns-a"], ["ns-b-str", "x-ns-b"], ["phase-num", "x-phase"], ["override-str", "x-override"],
    ["hv1-json", "x-hv1"], ["draft-bool", "x-draft"], ["stopped-str", "x-stopped"]]) {
    const fi = features.findIndex((f) => f.key === fkey);
    const reasons = {};
    let wrong = 0;
    users.forEach((u, ui) => {
      const a = assigned[ui][xkey], s = sdk[ui][fi];
      reasons[a.reason] = (reasons[a.reason] ?? 0) + 1;
      const sdkIn = s.source === "experiment" && s.experiment === xkey;
      const overridden = s.ruleId.startsWith("fr_0_override_");
      if (a.in_experiment !== sdkIn || (a.reason === "override") !== overridden ||
          (overridden && s.value !== features[fi].rules[0].values[a.variant_index])) wrong++;
    });
    check(wrong === 0, `${xkey}: /v1/assign puts in (or overrides) exactly the users the SDK does ` +
      `(${wrong} differ; reasons ${JSON.stringify(reasons)})`);
  }
  // The namespace is split: nobody is in both x-ns-a and x-ns-b, and both have users.
  const inA = assigned.filter((a) => a["x-ns-a"].in_experiment).length;
  const inB = assigned.filter((a) => a["x-ns-b"].in_experiment).length;
  const inBoth = assigned.filter((a) => a["x-ns-a"].in_experiment && a["x-ns-b"].in_experiment).length;
  check(inA > 300 && inB > 300 && inBoth === 0 && inA + inB === users.length,
    `namespace "checkout": ${inA} users in x-ns-a, ${inB} in x-ns-b, ${inBoth} in both`);
  // The SDK's ns-both: values of x-ns-a for its users, else x-ns-b's.
  const nsBoth = features.findIndex((f) => f.key === "ns-both");
  check(sdk.every((row, ui) => row[nsBoth].experiment === (assigned[ui]["x-ns-a"].in_experiment ? "x-ns-a" : "x-ns-b")),
    "ns-both: each user gets the experiment of their namespace range");
  // The overrides the payload carries reach exactly the overridden users.
  const ov = features.findIndex((f) => f.key === "override-str");
  const ovUsers = users.filter((u, ui) => sdk[ui][ov].ruleId.startsWith("fr_0_override_")).map((u) => u.id).sort();
  check(canon(ovUsers) === canon([U(3), U(5), U(17), U(42)].sort()) &&
    sdk[3][ov].value === "o2" && sdk[5][ov].value === "o1" && sdk[17][ov].value === "o0",
    `x-override: the overridden users get their variant's value from the payload (${ovUsers.join(", ")})`);
  const draft = features.findIndex((f) => f.key === "draft-bool");
  check(sdk[7][draft].value === true && sdk[7][draft].ruleId === "fr_0_override_0",
    "a draft experiment's override is served; nobody else is in it");

  // ---------------------------------------------------------------- 2. exposures
  const answers = await sender.done();
  const accepted = answers.reduce((n, a) => n + (a.body.accepted ?? 0), 0);
  check(answers.every((a) => a.status === 200) && accepted === sender.sent.length,
    `the trackingCallback's ${sender.sent.length} exposures in ${answers.length} batches, client key: all accepted ` +
    `(${accepted}; ${answers.filter((a) => a.status !== 200).map((a) => JSON.stringify(a.body)).join(" ")})`);
  const distinctExposed = new Set();
  sdk.forEach((row, ui) => row.forEach((s) => {
    if (s.source === "experiment") distinctExposed.add(`${s.experiment}\u0000${users[ui].id}`);
  }));
  check(sender.sent.length === distinctExposed.size,
    `the trackingCallback fired once per experiment and user the SDK put in (${sender.sent.length} of ${distinctExposed.size})`);
  const again = await call("POST", "/v1/events", plain.key, {events: answers[0].events});
  check(again.status === 200 && again.json.accepted === 0 && again.json.duplicates === answers[0].events.length,
    `a batch sent again is all duplicates (${again.text})`);
  let exposureChecks = 0;
  for (const x of experiments) {
    const mine = sender.sent.filter((e) => e.experiment === x.key);
    const byVariant = {};
    for (const e of mine) (byVariant[e.variant] ??= new Set()).add(e.user);
    const r = await must(call("GET", `/v1/experiments/${x.key}/exposures`, admin), 200, `exposures ${x.key}`);
    const users_ = Object.fromEntries(r.variants.map((v) => [v.variant, v.users]));
    const want = Object.fromEntries(x.variants.map((v) => [v.key, byVariant[v.key]?.size ?? 0]));
    const distinct = new Set(mine.map((e) => e.user)).size;
    const ok = canon(users_) === canon(want) && r.unique_users === distinct && r.total_exposures === mine.length &&
      r.multi_variant_users === 0;
    if (ok) exposureChecks++;
    check(ok, `${x.key}: /exposures counts the ${distinct} users the SDK exposed, per variant ` +
      `(${JSON.stringify(users_)} vs SDK ${JSON.stringify(want)}, total ${r.total_exposures})`);
  }
  const xTwoTracked = new Set(sender.sent.filter((e) => e.experiment === "x-two").map((e) => e.user)).size;
  check(xTwoTracked === users.length, `x-two (coverage 1, no condition) exposed all ${users.length} users (${xTwoTracked})`);
  console.log(`exposures: ${sender.sent.length} tracked by the SDK, ${answers.length} batches, ` +
    `${exposureChecks}/${experiments.length} experiments' counts equal`);

  const before = await must(call("GET", "/v1/experiments/x-two/exposures", admin), 200, "exposures");
  const conv = await call("POST", "/v1/events", plain.key,
    {events: [{type: "conversion", id: "c-1", user: U(1), event: "purchase", value: 9.5, ts: Date.now()}]});
  check(conv.status === 403 && conv.json?.error?.field === "events[0].type",
    `a conversion with the client key: 403 naming events[0].type (${conv.status} ${conv.text})`);
  const mixed = await call("POST", "/v1/events", plain.key, {events: [
    {type: "exposure", id: "x-two:late", experiment: "x-two", user: "late", variant: "t", ts: Date.now()},
    {type: "conversion", id: "c-2", user: "late", event: "purchase", ts: Date.now()}]});
  const after = await must(call("GET", "/v1/experiments/x-two/exposures", admin), 200, "exposures");
  check(mixed.status === 403 && mixed.json?.error?.field === "events[1].type" &&
    after.total_exposures === before.total_exposures,
    `an exposure and a conversion with the client key: 403 naming events[1].type, nothing stored (${mixed.text})`);

  // ---------------------------------------------------------------- 4. encrypted payload
  const raw = await call("GET", `/api/features/${enc.key}`);
  check(raw.status === 200 && typeof raw.json.encryptedFeatures === "string" &&
    Object.keys(raw.json.features ?? {}).length === 0 && !raw.text.includes("x-ns-a"),
    "the encrypting key's payload carries encryptedFeatures and no feature in clear");
  const gbEnc = new GrowthBook({apiHost: base, clientKey: enc.key, decryptionKey: enc.decryption_key});
  instances.push(gbEnc);
  const encInit = await gbEnc.init({timeout: 3000});
  let encDiffer = 0;
  for (let ui = 0; ui < users.length; ui++) {
    await gbEnc.setAttributes(users[ui]);
    features.forEach((f, fi) => { if (canon(sdkResult(gbEnc.evalFeature(f.key))) !== canon(sdk[ui][fi])) encDiffer++; });
  }
  check(encInit.success && Object.keys(gbEnc.getFeatures()).length === 30 && encDiffer === 0,
    `with the decryptionKey the encrypted payload evaluates as the plain one: ${cases.length} cases, ${encDiffer} differ`);
  const consoleError = console.error;
  const decryptErrors = [];
  console.error = (...a) => decryptErrors.push(a.map(String).join(" "));
  const gbBad = new GrowthBook({apiHost: base, clientKey: enc.key, decryptionKey: "AAAAAAAAAAAAAAAAAAAAAA=="});
  instances.push(gbBad);
  try {
    await gbBad.init({timeout: 3000});
  } finally {
    console.error = consoleError;
  }
  await gbBad.setAttributes(users[0]);
  check(Object.keys(gbBad.getFeatures()).length === 0 &&
    features.every((f) => gbBad.evalFeature(f.key).source === "unknownFeature") &&
    decryptErrors.some((e) => e.includes("Failed to decrypt")),
    `with a wrong decryptionKey the SDK gets no features (${decryptErrors.join("; ")})`);

  // ---------------------------------------------------------------- 5. ETag
  const p1 = await call("GET", `/api/features/${plain.key}`);
  const etag = p1.headers.get("etag");
  const p2 = await call("GET", `/api/features/${plain.key}`, null, undefined, {"If-None-Match": etag});
  check(p1.status === 200 && /^"[0-9a-f]+"$/.test(etag ?? "") && p2.status === 304 && p2.text === "",
    `If-None-Match with the payload's ETag: 304 (${etag}, ${p2.status})`);
  const e1 = await call("GET", `/api/features/${enc.key}`);
  const e2 = await call("GET", `/api/features/${enc.key}`, null, undefined, {"If-None-Match": e1.headers.get("etag")});
  check(e2.status === 304 && e1.headers.get("etag") !== etag, "the encrypted payload has its own ETag, 304 too");
  check(p1.headers.get("access-control-allow-origin") === "*" && p1.headers.get("x-sse-support") === "enabled",
    "the payload has CORS and x-sse-support: enabled");

  // ---------------------------------------------------------------- 3. streaming
  await must(call("POST", "/v1/experiments", admin, {key: "x-stream", variants: V("c", "t"), status: "running"}),
    201, "x-stream");
  await must(call("POST", "/v1/features", admin, {key: "stream-old", value_type: "string", default_value: "old"}),
    201, "stream-old");
  await must(call("POST", "/v1/features", admin,
    {key: "stream-exp", value_type: "string", default_value: "off", rules: [exp("x-stream", ["A", "B"])]}),
  201, "stream-exp");
  await must(call("POST", "/v1/features", admin, {key: "stream-flag", value_type: "string", default_value: "v0"}),
    201, "stream-flag");
  const streamKey = await must(call("POST", "/v1/keys", admin, {scope: "client", name: "stream"}), 201, "stream key");
  const streamEvents = new Map();  // client key -> "features" events received
  class CountingEventSource extends EventSource {
    constructor(url, init) {
      super(url, init);
      openSources.push(this);
      const key = url.split("/sub/")[1];
      this.addEventListener("features", () => streamEvents.set(key, (streamEvents.get(key) ?? 0) + 1));
    }
  }
  setPolyfills({EventSource: CountingEventSource});
  const gbS = new GrowthBook({apiHost: base, clientKey: streamKey.key, attributes: {id: U(11), country: "FR"}});
  const gbSE = new GrowthBook({apiHost: base, clientKey: enc.key, decryptionKey: enc.decryption_key,
    attributes: {id: U(11), country: "FR"}});
  instances.push(gbS, gbSE);
  const sInit = await gbS.init({timeout: 3000, streaming: true});
  await gbSE.init({timeout: 3000, streaming: true});
  check(sInit.success, "the streaming SDK loaded the payload");
  check(await waitFor(() => (streamEvents.get(streamKey.key) ?? 0) >= 1 && (streamEvents.get(enc.key) ?? 0) >= 1, 3000),
    `both SDKs opened /sub/{clientKey} and got the payload on connect (${JSON.stringify([...streamEvents])})`);
  // gbSE started from the SDK's cache of the encrypted payload (fetched above, before
  // stream-flag existed): the payload the stream sends on connect brings it.
  check(await waitFor(() => gbS.getFeatureValue("stream-flag", null) === "v0" &&
    gbSE.getFeatureValue("stream-flag", null) === "v0", 2000), "stream-flag is v0 in both");
  const latencies = [];
  for (const value of ["v1", "v2", "v3"]) {
    const start = Date.now();
    await must(call("PATCH", "/v1/features/stream-flag", admin, {default_value: value}), 200, "patch stream-flag");
    const seen = await waitFor(() => gbS.getFeatureValue("stream-flag", null) === value, 3000, 2);
    const ms = Date.now() - start;
    latencies.push(ms);
    check(seen && ms < 2000, `PATCH /v1/features/stream-flag -> ${value}: the streaming SDK has it after ${ms} ms (< 2000)`);
    const encSeen = await waitFor(() => gbSE.getFeatureValue("stream-flag", null) === value, 3000, 2);
    check(encSeen && Date.now() - start < 2000, `the encrypted streaming SDK has ${value} too (${Date.now() - start} ms)`);
  }
  console.log(`streaming latency (PATCH sent -> streaming SDK serves the new value): ${latencies.join(", ")} ms`);
  const p3 = await call("GET", `/api/features/${plain.key}`, null, undefined, {"If-None-Match": etag});
  check(p3.status === 200 && p3.headers.get("etag") !== etag && p3.json?.features?.["stream-flag"]?.defaultValue === "v3",
    `after a change the old ETag gets 200 and the new payload (${p3.status}, ${p3.headers.get("etag")})`);
  // A change of the experiment behind a rule streams too: stopped, its rule goes.
  check(["A", "B"].includes(gbS.getFeatureValue("stream-exp", null)), "stream-exp serves x-stream's variant");
  const stopStart = Date.now();
  await must(call("PATCH", "/v1/experiments/x-stream", admin, {status: "stopped"}), 200, "stop x-stream");
  const stopped = await waitFor(() => gbS.getFeatureValue("stream-exp", null) === "off", 3000, 2);
  check(stopped && Date.now() - stopStart < 2000,
    `PATCH /v1/experiments/x-stream {"status":"stopped"}: the streaming SDK serves the default after ${Date.now() - stopStart} ms`);
  // Deleting a feature changes the payload: streamed, and the SDK must drop it.
  const dBefore = (await call("GET", `/api/features/${streamKey.key}`)).json.dateUpdated;
  const eventsBefore = streamEvents.get(streamKey.key);
  await must(call("DELETE", "/v1/features/stream-old", admin), 200, "delete stream-old");
  const resent = await waitFor(() => streamEvents.get(streamKey.key) > eventsBefore, 2000, 2);
  const dAfter = (await call("GET", `/api/features/${streamKey.key}`)).json.dateUpdated;
  check(resent, "after DELETE /v1/features/stream-old the stream sends a new payload");
  const dropped = await waitFor(() => gbS.getFeatures()["stream-old"] === undefined, 2000, 5);
  check(dropped, `after DELETE /v1/features/stream-old the streaming SDK drops the feature within 2 s ` +
    `(payload dateUpdated ${dBefore} -> ${dAfter}: the SDK ignores a payload whose dateUpdated it already has)`);

  // ---------------------------------------------------------------- 6. revocation
  const doomed = await must(call("POST", "/v1/keys", admin, {scope: "client", name: "doomed"}), 201, "doomed key");
  check((await call("GET", `/api/features/${doomed.key}`)).status === 200, "a new client key fetches the payload");
  const doomedStream = new EventSource(`${base}/sub/${doomed.key}`);
  openSources.push(doomedStream);
  let doomedMessages = 0;
  doomedStream.addEventListener("features", () => doomedMessages++);
  await waitFor(() => doomedMessages >= 1, 2000);
  await must(call("POST", `/v1/keys/${doomed.id}/revoke`, admin), 200, "revoke");
  const gone = await call("GET", `/api/features/${doomed.key}`);
  check(gone.status === 401 && gone.json?.error?.field === "clientKey",
    `the revoked client key's payload answers 401 at once (${gone.status} ${gone.text})`);
  const goneSub = await call("GET", `/sub/${doomed.key}`);
  check(goneSub.status === 401, `the revoked client key's stream answers 401 at once (${goneSub.status})`);
  const goneEvents = await call("POST", "/v1/events", doomed.key, {events: [
    {type: "exposure", id: "x-two:revoked", experiment: "x-two", user: "revoked", variant: "t", ts: Date.now()}]});
  check(goneEvents.status === 401, `the revoked client key cannot send exposures (${goneEvents.status})`);
  const gbGone = new GrowthBook({apiHost: base, clientKey: doomed.key});
  instances.push(gbGone);
  const goneInit = await gbGone.init({timeout: 3000, skipCache: true});
  check(!goneInit.success && Object.keys(gbGone.getFeatures()).length === 0,
    `an SDK with the revoked key gets no features (${JSON.stringify({success: goneInit.success, source: goneInit.source})})`);
  // A stream opened before the revocation ends (its reconnection gets the 401).
  const m0 = doomedMessages;
  await must(call("PATCH", "/v1/features/stream-flag", admin, {default_value: "after-revoke"}), 200, "patch");
  await sleep(600);
  check(doomedMessages === m0,
    `a stream opened before its key was revoked receives no change after it (${doomedMessages - m0} received; readyState ${doomedStream.readyState})`);
} catch (e) {
  failures.push(String(e?.stack ?? e));
  console.error(e);
} finally {
  for (const gb of instances) { try { gb.destroy(); } catch { /* already gone */ } }
  for (const s of openSources) s.close();
  try { await clearCache(); } catch { /* nothing cached */ }
  agent.destroy();
  cleanUp();
}

console.log(`total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
console.log(`sdk: ${passed} passed, ${failures.length} failed`);
process.exit(failures.length === 0 ? 0 : 1);
