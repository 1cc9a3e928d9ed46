// Signed webhooks end to end (docs/alerts.md, issue 21 part 5): a real
// `causeway serve` delivers alerts to real HTTP receivers on loopback, and every
// delivery is verified with the npm `standardwebhooks` package (pinned by
// web/package-lock.json), the reference implementation of the signature.
//
//   node web/test/webhooks_test.mjs path/to/causeway
//
// Cases: a receiver that is down for a while and comes back gets every alert; a
// server killed with SIGKILL mid-delivery delivers after its restart; a receiver that
// deduplicates by webhook-id sees each alert once; a receiver that hangs delays
// neither another webhook's deliveries nor /v1/assign. Short back-off options keep
// the run to seconds. Prints "N passed, M failed".
import {spawn} from "node:child_process";
import {createServer} from "node:http";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import path from "node:path";
import {createRequire} from "node:module";

const require = createRequire(import.meta.url);
const {Webhook} = require("standardwebhooks");

const binary = process.argv[2];
if (!binary) {
  console.error("usage: node webhooks_test.mjs path/to/causeway");
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
async function waitFor(predicate, ms, step = 20) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await predicate()) return true;
    await sleep(step);
  }
  return predicate();
}

// ------------------------------------------------------------------ causeway
const kFlags = ["--allow-private-webhooks", "--webhook-retry-base-ms", "100", "--webhook-retry-cap-ms",
  "400", "--webhook-poll-ms", "50", "--webhook-timeout-ms", "1000", "--config-poll-ms", "0"];

function startServer(db) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ["serve", "--host", "127.0.0.1", "--port", "0", "--db", db,
      "--threads", "16", ...kFlags], {stdio: ["ignore", "pipe", "pipe"]});
    let out = "", err = "", port = null;
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}\n${err}`)), 15000);
    const keys = {};
    const done = () => {
      if (!port) return;
      clearTimeout(timer);
      resolve({child, keys, base: `http://127.0.0.1:${port}`, stderr: () => err});
    };
    child.stdout.on("data", (d) => {
      out += d;
      for (const m of out.matchAll(/(admin|sdk)\s+key: (\S+)/g)) keys[m[1]] = m[2];
    });
    child.stderr.on("data", (d) => {
      err += d;
      port = port || (err.match(/"msg":"listening".*?"port":(\d+)/) || [])[1];
      done();
    });
    child.on("exit", (code) => { if (!port) reject(new Error(`server exited with ${code}:\n${err}`)); });
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
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return {status: res.status, json, text};
}

// ------------------------------------------------------------------ receivers
// A receiver that verifies every delivery and deduplicates by webhook-id.
// mode: "ok" answers 204; "slow" answers after `delayMs`; "hang" never answers.
class Receiver {
  constructor(name) {
    this.name = name;
    this.secret = null;
    this.mode = "ok";
    this.delayMs = 0;
    this.raw = [];             // every request: {id, at, verified}
    this.processed = new Map(); // webhook-id -> payload, once
    this.bad = [];
    this.hanging = [];
    this.server = null;
    this.port = 0;
  }
  handler(req, res) {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const id = req.headers["webhook-id"];
      let verified = false;
      try {
        new Webhook(this.secret).verify(body, req.headers);
        verified = true;
      } catch (e) {
        this.bad.push(`${id}: ${e.message}`);
      }
      this.raw.push({id, at: Date.now(), verified});
      if (this.mode === "hang") {
        this.hanging.push(res);
        return;
      }
      const answer = () => {
        if (verified && !this.processed.has(id)) this.processed.set(id, JSON.parse(body));
        res.writeHead(verified ? 204 : 400);
        res.end();
      };
      if (this.mode === "slow") setTimeout(answer, this.delayMs); else answer();
    });
  }
  listen(port = 0) {
    return new Promise((resolve) => {
      this.server = createServer((req, res) => this.handler(req, res));
      this.server.listen(port, "127.0.0.1", () => {
        this.port = this.server.address().port;
        resolve();
      });
    });
  }
  close() {
    return new Promise((resolve) => {
      for (const res of this.hanging) res.destroy();
      this.hanging = [];
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
  url() { return `http://127.0.0.1:${this.port}/hooks/causeway?team=growth`; }
}

async function createWebhook(server, receiver, extra = {}) {
  const r = await call(server, "POST", "/v1/webhooks", server.keys.admin, {url: receiver.url(), ...extra});
  check(r.status === 201, `${receiver.name}: POST /v1/webhooks answers 201 (${r.status} ${r.text})`);
  check(typeof r.json?.secret === "string" && r.json.secret.startsWith("whsec_"),
    `${receiver.name}: the secret is shown at creation`);
  receiver.secret = r.json.secret;
  return r.json.id;
}

async function sendTest(server, webhookId) {
  const r = await call(server, "POST", `/v1/webhooks/${webhookId}/test`, server.keys.admin);
  check(r.status === 202, `POST /v1/webhooks/{id}/test answers 202 (${r.status} ${r.text})`);
  return r.json?.alert?.id;
}

async function alertsById(server) {
  const r = await call(server, "GET", "/v1/alerts?since=0&limit=1000", server.keys.admin);
  if (r.status !== 200) throw new Error(`GET /v1/alerts: ${r.status} ${r.text}`);
  return new Map((r.json?.alerts ?? []).map((a) => [a.id, a]));
}

// ------------------------------------------------------------------ the cases
const dir = mkdtempSync(path.join(tmpdir(), "causeway-webhooks-"));
const db = path.join(dir, "w.db");
let server = null;
const steady = new Receiver("steady");
const hanging = new Receiver("hanging");
try {
  await steady.listen();
  await hanging.listen();
  server = await startServer(db);
  const firstKeys = {...server.keys};  // printed at the first start only
  const steadyId = await createWebhook(server, steady);
  const hangingId = await createWebhook(server, hanging);
  hanging.mode = "hang";

  const list = await call(server, "GET", "/v1/webhooks", server.keys.admin);
  check(list.json?.webhooks?.length === 2 && !list.text.includes("whsec_"),
    "GET /v1/webhooks lists both webhooks and never a secret");

  // 1. A hanging receiver delays neither another webhook nor /v1/assign.
  await must(call(server, "POST", "/v1/experiments", server.keys.admin, {
    key: "checkout", variants: [{key: "control"}, {key: "treatment"}], status: "running"}), 201, "experiment");
  for (let i = 0; i < 3; i++) await sendTest(server, hangingId);
  check(await waitFor(() => hanging.raw.length >= 2, 3000), "the hanging receiver got requests");
  const t0 = Date.now();
  const first = await sendTest(server, steadyId);
  check(await waitFor(() => steady.processed.has(first), 3000), "the steady receiver got its alert");
  const steadyMs = Date.now() - t0;
  check(steadyMs < 500, `the steady receiver's alert came in ${steadyMs} ms while another hangs (< 500)`);
  const a0 = Date.now();
  const assign = await call(server, "GET", "/v1/assign?experiment=checkout&user=u1", server.keys.sdk);
  const assignMs = Date.now() - a0;
  check(assign.status === 200 && assignMs < 200, `/v1/assign answers in ${assignMs} ms while a receiver hangs`);
  await must(call(server, "DELETE", `/v1/webhooks/${hangingId}`, server.keys.admin), 200, "delete");
  await hanging.close();

  // 2. The receiver is down for a while, then back: every alert arrives, verified.
  const port = steady.port;
  await steady.close();
  const whileDown = [];
  for (let i = 0; i < 5; i++) whileDown.push(await sendTest(server, steadyId));
  await sleep(1500);
  const during = await alertsById(server);
  const retried = whileDown.every((id) => {
    const d = during.get(id)?.deliveries?.[0];
    return d && d.status === "pending" && d.attempts >= 2 && d.last_error && d.next_attempt_ms;
  });
  check(retried, "while the receiver is down each delivery is retried and its error recorded");
  await steady.listen(port);
  check(await waitFor(() => whileDown.every((id) => steady.processed.has(id)), 5000),
    "after the receiver is back every alert sent while it was down arrived");
  const after = await alertsById(server);
  check(whileDown.every((id) => after.get(id)?.deliveries?.[0]?.status === "delivered"),
    "GET /v1/alerts shows every one of them delivered");
  const body = steady.processed.get(whileDown[0]);
  check(body?.type === "alert.test" && body?.data?.id === whileDown[0] && body?.data?.kind === "test" &&
    body?.data?.subject === steadyId, "the body names the alert: type, data.id, kind, subject");

  // 3. SIGKILL mid-delivery: delivered after the restart, once for a deduplicating receiver.
  steady.mode = "slow";
  steady.delayMs = 1500;
  const rawBefore = steady.raw.length;
  const crashId = await sendTest(server, steadyId);
  check(await waitFor(() => steady.raw.length > rawBefore, 3000), "the delivery reached the receiver");
  server.child.kill("SIGKILL");
  await new Promise((r) => server.child.once("exit", r));
  steady.mode = "ok";
  await sleep(1600);  // the receiver processes the first copy; causeway never saw its answer
  server = await startServer(db);
  server.keys = firstKeys;
  check(await waitFor(async () => (await alertsById(server)).get(crashId)?.deliveries?.[0]?.status === "delivered", 8000),
    "after the restart the interrupted delivery is delivered");
  const copies = steady.raw.filter((r) => r.id === crashId).length;
  check(copies >= 2, `the interrupted alert was sent again after the restart (${copies} requests)`);

  // 4. Deduplication by webhook-id: each alert processed once; every request verified.
  const sent = [first, ...whileDown, crashId];
  check(sent.every((id) => steady.processed.has(id)), "the receiver processed every alert");
  check(steady.processed.size === sent.length, `each alert once (${steady.processed.size} of ${sent.length})`);
  check(steady.bad.length === 0 && hanging.bad.length === 0,
    `every delivery verifies with standardwebhooks (${[...steady.bad, ...hanging.bad].join("; ")})`);
} catch (e) {
  failures.push(String(e?.stack ?? e));
  console.error(e);
} finally {
  if (server) server.child.kill("SIGKILL");
  for (const r of [steady, hanging]) if (r.server?.listening) await r.close();
  rmSync(dir, {recursive: true, force: true});
}

async function must(promise, status, what) {
  const r = await promise;
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status} ${r.text}`);
  return r;
}

console.log(`webhooks: ${passed} passed, ${failures.length} failed`);
process.exit(failures.length === 0 ? 0 : 1);
