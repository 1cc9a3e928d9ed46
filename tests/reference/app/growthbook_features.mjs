// Feature values computed by GrowthBook's JavaScript SDK (npm @growthbook/growthbook,
// the exact version pinned in web/package.json and web/package-lock.json), for the
// features and experiments defined below. Writes growthbook_features.json next to
// this script; tests/app/feature_test.cc evaluates the same definitions with
// causeway::app::EvaluateFeature and checks every case exactly.
//
//   cd web && npm ci && cd .. && node tests/reference/app/growthbook_features.mjs
//
// Deterministic: users and attributes come from a seeded PRNG, so rerunning it
// must reproduce the committed file byte for byte.
//
// What the fixture holds:
// - `experiments` and `features`: the definitions in Causeway's form (the fields
//   of app::Feature and assign::ExperimentSpec), which the C++ test reads;
// - `payload`: the same definitions in GrowthBook's SDK payload form, built by
//   toPayload() below (the mapping a payload endpoint must implement): a rule id
//   "fr_<index>" on every rule; a force rule's coverage, hash attribute, seed and
//   hash version; an experiment rule carries the experiment's key, seed, hash
//   version, coverage, weights, namespace, condition, phase and variant keys
//   (meta), its `variations` being the feature's values; an experiment that is not
//   running is an experiment rule of coverage 0 (nobody is hashed in, overrides
//   still apply); a stopped experiment that releases a variant is a force rule
//   of that variant's value;
// - `users`: id and attributes (attributes.id is the id);
// - `cases`: for every user and feature (plus one unknown feature), the result of
//   GrowthBook#evalFeature on a GrowthBook instance with the payload, the user's
//   attributes and, for a user with an override, forcedVariations {experiment:
//   variant index} (how an SDK applies per-user overrides).
import { writeFileSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";

const here = dirname(fileURLToPath(import.meta.url));
const webDir = join(here, "..", "..", "..", "web");
const require = createRequire(join(webDir, "package.json"));
const sdkDir = dirname(require.resolve("@growthbook/growthbook/package.json"));
const sdkVersion = JSON.parse(readFileSync(join(sdkDir, "package.json"), "utf8")).version;
const { GrowthBook } = await import(join(sdkDir, "dist", "esm", "index.mjs"));
const { hash } = await import(join(sdkDir, "dist", "esm", "util.mjs"));

function check(condition, message) {
  if (!condition) throw new Error("check failed: " + message);
}

// mulberry32: a small seeded PRNG, so the fixture does not depend on Math.random.
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
const rand = Prng(20260522);
const randInt = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1)); // inclusive
const pick = (xs) => xs[randInt(0, xs.length - 1)];
const maybe = (p, f) => (rand() < p ? f() : undefined);

// ---------------------------------------------------------------- users

const kPools = [
  [0x61, 0x7a], // a-z
  [0x30, 0x39], // digits
  [0xc0, 0x17f], // Latin-1 Supplement, Latin Extended-A
  [0x391, 0x4ff], // Greek, Cyrillic
  [0x4e00, 0x9fff], // CJK
  [0x1f300, 0x1faff], // emoji (surrogate pairs in UTF-16)
];
function randomId() {
  const n = randInt(1, 12);
  let s = "";
  for (let i = 0; i < n; ++i) {
    const [lo, hi] = rand() < 0.5 ? kPools[randInt(0, 1)] : pick(kPools);
    s += String.fromCodePoint(randInt(lo, hi));
  }
  return s;
}

const fixedIds = [
  "",
  "1",
  "user-42",
  "a@b.example",
  "用户42",
  "usuário-7-ñ",
  "😀-user",
  "José",
  "Москва-17",
  "사용자-9",
  "override-a",
  "override-b",
  "override-c",
];
const ids = [...fixedIds];
for (let i = 0; ids.length < 120; ++i) ids.push("u" + i);
while (ids.length < 200) {
  const id = randomId();
  if (!ids.includes(id)) ids.push(id); // ids are unique: cases are looked up by id
}

const kCountries = ["US", "FR", "DE", "BR", "JP"];
const kBrowsers = ["chrome", "firefox", "safari", "edge"];
// Numbers an attribute used as a hash attribute may hold: JavaScript writes them
// with Number#toString before hashing (1e21 as "1e+21", 1e-7 as "1e-7").
const kAccountIds = [7, 42, 1000, 123456789, 1.5, -3, 0.1, 1e21, 1e-7, 2 ** 53, 98765.4321];

function randomAttributes(id) {
  const a = { id };
  const set = (k, v) => v !== undefined && (a[k] = v);
  set("country", maybe(0.85, () => pick(kCountries)));
  set("browser", maybe(0.9, () => pick(kBrowsers)));
  set("company", maybe(0.6, () => pick(["acme", "globex", "initech", "umbrella", "ñandú-sa", "株式会社"])));
  set("account_id", maybe(0.6, () => pick(kAccountIds)));
  set("beta", maybe(0.5, () => rand() < 0.5));
  set("email", maybe(0.7, () => `${pick(["ann", "bob", "chloé"])}${randInt(1, 99)}@${pick(["example.com", "corp.example", "mail.test"])}`));
  set("app_version", maybe(0.7, () => `${randInt(1, 3)}.${randInt(0, 12)}.${randInt(0, 20)}`));
  set("profile", maybe(0.6, () => ({ age: randInt(16, 80), plan: pick(["free", "pro", "team"]) })));
  set("tags", maybe(0.4, () => [pick(["a", "b", "c"]), pick(["x", "y"])]));
  return a;
}
const users = ids.map((id) => ({ id, attributes: randomAttributes(id) }));
// A few hand-written attribute sets at known positions.
users[1].attributes = { id: "1", country: "FR", browser: "firefox", company: "", account_id: 0, beta: false };
users[2].attributes = { id: "user-42", country: "US", company: "acme", account_id: 1e21, beta: true, app_version: "2.10.0" };

// ---------------------------------------------------------------- experiments

// Causeway's assign::ExperimentSpec: weights sum to 1; status "running", "draft"
// or "stopped"; released_variant -1 or a variant index; overrides: user -> index.
const experiments = [
  { key: "exp-checkout", seed: "exp-checkout", hash_version: 2, coverage: 1, weights: [0.5, 0.5], variants: ["control", "treatment"], status: "running" },
  { key: "exp-three", seed: "three-seed-ü", hash_version: 1, coverage: 0.6, weights: [0.2, 0.3, 0.5], variants: ["a", "b", "c"], status: "running" },
  { key: "exp-ns-left", seed: "exp-ns-left", hash_version: 2, coverage: 1, weights: [0.5, 0.5], variants: ["off", "on"], namespace: { name: "checkout", start: 0, end: 0.5 }, status: "running" },
  { key: "exp-ns-right", seed: "exp-ns-right", hash_version: 1, coverage: 0.8, weights: [0.25, 0.75], variants: ["off", "on"], namespace: { name: "checkout", start: 0.5, end: 1 }, status: "running" },
  { key: "exp-targeted", seed: "exp-targeted", hash_version: 2, coverage: 1, weights: [0.34, 0.33, 0.33], variants: ["x", "y", "z"], condition: { browser: { $in: ["chrome", "edge"] }, "profile.age": { $gte: 25 } }, status: "running" },
  { key: "exp-draft", seed: "exp-draft", hash_version: 2, coverage: 1, weights: [0.5, 0.5], variants: ["control", "treatment"], status: "draft" },
  { key: "exp-released", seed: "exp-released", hash_version: 2, coverage: 1, weights: [0.5, 0.5], variants: ["control", "winner"], status: "stopped", released_variant: 1 },
  { key: "exp-overrides", seed: "exp-overrides", hash_version: 2, coverage: 0.5, weights: [0.5, 0.5], variants: ["control", "treatment"], status: "running", overrides: { "override-a": 1, "override-b": 0, "用户42": 1 } },
  { key: "exp-small", seed: "实验-种子", hash_version: 2, coverage: 0.1, weights: [0.1, 0.9], variants: ["rare", "common"], namespace: { name: "命名空间", start: 0.2, end: 0.9 }, status: "running" },
  { key: "exp-stopped-overrides", seed: "exp-stopped-overrides", hash_version: 1, coverage: 1, weights: [0.5, 0.5], variants: ["control", "treatment"], status: "stopped", overrides: { "override-c": 1 } },
  { key: "exp-json", seed: "exp-json", hash_version: 1, coverage: 0.9, weights: [0.3, 0.3, 0.4], variants: ["small", "medium", "large"], status: "running" },
];
const experimentByKey = Object.fromEntries(experiments.map((e) => [e.key, e]));

// ---------------------------------------------------------------- features

// Causeway's app::Feature. Rules: {type: "force", value, condition?, coverage?,
// hash_attribute?, seed?, hash_version?}, {type: "rollout", value, coverage,
// hash_attribute, condition?, seed?, hash_version?}, {type: "experiment",
// experiment, values}.
const features = [
  { key: "always-on", value_type: "boolean", default_value: false, rules: [{ type: "force", value: true }] },
  { key: "fr-only", value_type: "boolean", default_value: false, rules: [{ type: "force", value: true, condition: { country: "FR" } }] },
  { key: "banner-text", value_type: "string", default_value: "Hello", rules: [
    { type: "force", value: "Bonjour", condition: { country: { $in: ["FR", "BR"] } }, coverage: 0.5 },
    { type: "force", value: "Hallo", condition: { country: "DE" } },
  ] },
  { key: "company-limit", value_type: "number", default_value: 10, rules: [
    { type: "rollout", value: 100, coverage: 0.3, hash_attribute: "company", seed: "limits-ñ", hash_version: 2 },
  ] },
  { key: "theme", value_type: "json", default_value: { color: "blue", dark: false }, rules: [
    { type: "rollout", value: { color: "green", dark: true }, coverage: 0.25, hash_attribute: "id" },
    { type: "experiment", experiment: "exp-checkout", values: [{ color: "blue", dark: false }, { color: "red", dark: false, sizes: [1, 2, 3] }] },
  ] },
  { key: "checkout-button", value_type: "string", default_value: "buy", rules: [
    { type: "experiment", experiment: "exp-checkout", values: ["buy", "purchase"] },
    { type: "force", value: "unreachable-unless-empty-id" },
  ] },
  { key: "three-way", value_type: "number", default_value: -1, rules: [
    { type: "experiment", experiment: "exp-three", values: [0, 1.5, 2] },
  ] },
  { key: "namespaced", value_type: "string", default_value: "none", rules: [
    { type: "experiment", experiment: "exp-ns-left", values: ["left-off", "left-on"] },
    { type: "experiment", experiment: "exp-ns-right", values: ["right-off", "right-on"] },
    { type: "force", value: "fallback", condition: { beta: true } },
  ] },
  { key: "targeted", value_type: "string", default_value: "plain", rules: [
    { type: "experiment", experiment: "exp-targeted", values: ["x-value", "y-value", "z-value"] },
  ] },
  { key: "draft-then-rollout", value_type: "boolean", default_value: false, rules: [
    { type: "experiment", experiment: "exp-draft", values: [false, true] },
    { type: "rollout", value: true, coverage: 0.5, hash_attribute: "id", hash_version: 1 },
  ] },
  { key: "released", value_type: "string", default_value: "old", rules: [
    { type: "force", value: "vip", condition: { email: { $regex: "^chloé" } } },
    { type: "experiment", experiment: "exp-released", values: ["old", "new"] },
  ] },
  { key: "overridden", value_type: "number", default_value: 0, rules: [
    { type: "experiment", experiment: "exp-overrides", values: [10, 20] },
    { type: "experiment", experiment: "exp-stopped-overrides", values: [30, 40] },
  ] },
  { key: "nested-targeting", value_type: "string", default_value: "free-tier", rules: [
    { type: "force", value: "team-tier", condition: { $or: [{ "profile.plan": "team" }, { tags: { $elemMatch: { $eq: "c" } } }] } },
    { type: "force", value: "adult", condition: { "profile.age": { $gt: 30, $lt: 60 }, email: { $exists: true } } },
  ] },
  { key: "rollout-edges", value_type: "number", default_value: 0, rules: [
    { type: "rollout", value: 1, coverage: 0, hash_attribute: "id" },
    { type: "force", value: 2, coverage: 1, hash_attribute: "company" },
    { type: "force", value: 3, coverage: 1, hash_attribute: "no_such_attribute" },
  ] },
  { key: "account-rollout", value_type: "boolean", default_value: false, rules: [
    { type: "force", value: true, coverage: 0.5, hash_attribute: "account_id", seed: "acct", hash_version: 1 },
  ] },
  { key: "beta-hash", value_type: "string", default_value: "no", rules: [
    { type: "force", value: "hashed-on-beta", coverage: 0.7, hash_attribute: "beta", hash_version: 2 },
    { type: "force", value: "hashed-on-tags", coverage: 0.6, hash_attribute: "tags", hash_version: 1 },
  ] },
  { key: "json-sizes", value_type: "json", default_value: null, rules: [
    { type: "experiment", experiment: "exp-json", values: [[1, "s"], { size: "m", nested: { deep: [true, null] } }, "large"] },
  ] },
  { key: "version-gate", value_type: "string", default_value: "legacy", rules: [
    { type: "force", value: "modern", condition: { app_version: { $vgte: "2.4.0" } } },
    { type: "rollout", value: "canary", coverage: 0.2, hash_attribute: "id", condition: { app_version: { $exists: true } }, seed: "canary-🚀", hash_version: 2 },
  ] },
  { key: "small-exp", value_type: "boolean", default_value: false, rules: [
    { type: "experiment", experiment: "exp-small", values: [true, false] },
  ] },
  { key: "chained", value_type: "number", default_value: 0.5, rules: [
    { type: "force", value: 1, condition: { browser: "safari" }, coverage: 0.4, hash_attribute: "email" },
    { type: "experiment", experiment: "exp-three", values: [2, 3, 4] },
    { type: "rollout", value: 5, coverage: 0.9, hash_attribute: "id", hash_version: 1 },
  ] },
];

// Coverage exactly at a user's hash: the SDK includes hash <= coverage, so that
// user is in. users[5] ("usuário-7-ñ") sits on the boundary of "boundary", seeded
// by the feature key with hash version 1 (values are multiples of 0.001).
const boundaryCoverage = hash("boundary", users[5].id, 1);
features.push({ key: "boundary", value_type: "boolean", default_value: false, rules: [
  { type: "rollout", value: true, coverage: boundaryCoverage, hash_attribute: "id", hash_version: 1 },
] });

// ---------------------------------------------------------------- payload

function experimentRule(rule, index) {
  const e = experimentByKey[rule.experiment];
  const id = `fr_${index}`;
  if (e.status !== "running" && e.released_variant !== undefined && e.released_variant >= 0) {
    return { id, force: rule.values[e.released_variant] };
  }
  const out = {
    id,
    key: e.key,
    seed: e.seed,
    hashAttribute: "id",
    hashVersion: e.hash_version,
    coverage: e.status === "running" ? e.coverage : 0,
    weights: e.weights,
    variations: rule.values,
    meta: e.variants.map((key) => ({ key })),
    phase: "1",
  };
  if (e.namespace) out.namespace = [e.namespace.name, e.namespace.start, e.namespace.end];
  if (e.condition) out.condition = e.condition;
  return out;
}

function forceRule(rule, index) {
  const out = { id: `fr_${index}`, force: rule.value };
  if (rule.condition) out.condition = rule.condition;
  if (rule.coverage !== undefined) {
    out.coverage = rule.coverage;
    out.hashAttribute = rule.hash_attribute ?? "id";
    if (rule.seed) out.seed = rule.seed;
    out.hashVersion = rule.hash_version ?? 1;
  }
  return out;
}

function toPayload() {
  const out = {};
  for (const f of features) {
    out[f.key] = {
      defaultValue: f.default_value,
      rules: f.rules.map((r, i) => (r.type === "experiment" ? experimentRule(r, i) : forceRule(r, i))),
    };
  }
  return { features: out };
}
const payload = toPayload();

// ---------------------------------------------------------------- evaluation

function forcedVariationsFor(id) {
  const forced = {};
  for (const e of experiments) {
    if (e.overrides && id in e.overrides) forced[e.key] = e.overrides[id];
  }
  return forced;
}

const featureKeys = [...features.map((f) => f.key), "no-such-feature"];
const cases = [];
for (const user of users) {
  const gb = new GrowthBook({
    features: payload.features,
    attributes: user.attributes,
    forcedVariations: forcedVariationsFor(user.id),
  });
  for (const key of featureKeys) {
    const r = gb.evalFeature(key);
    const c = { user: user.id, feature: key, value: r.value, source: r.source, ruleId: r.ruleId };
    c.rule_index = r.ruleId ? Number(r.ruleId.slice(3)) : -1;
    check(r.ruleId === "" || r.ruleId === `fr_${c.rule_index}`, "rule id " + r.ruleId);
    if (r.experimentResult) {
      c.experiment = r.experiment.key;
      c.variation = r.experimentResult.variationId;
      c.variation_key = r.experimentResult.key;
      c.in_experiment = r.experimentResult.inExperiment;
      c.hash_used = r.experimentResult.hashUsed;
    }
    cases.push(c);
  }
  gb.destroy();
}

// Each source should occur, or the fixture tests less than it claims.
const sources = new Set(cases.map((c) => c.source));
for (const s of ["defaultValue", "force", "experiment", "unknownFeature"]) check(sources.has(s), "source " + s);
check(cases.some((c) => c.feature === "boundary" && c.user === users[5].id && c.value === true), "boundary user included");
check(cases.some((c) => c.source === "experiment" && c.hash_used === false), "an override served");

// How JavaScript writes an attribute value that is hashed (`seed + value` in the
// SDK's hash()): [value, String(value)], for app::HashAttributeText.
const textValues = [
  ...kAccountIds, 1, 10, 100, 1e20, 1e21, 123e20, 1.25e-6, 1e-6, 1e-7, 0.000001234, 5e-324,
  1.7976931348623157e308, 2 ** 31, -(2 ** 31), 0.1 + 0.2, 1 / 3, -1.5e-9, 4.35, 123456789012345680000,
  true, "text", "ñ-😀", [1, "a", null, [2, 3]], [], { a: 1 },
];
const hashAttributeTexts = textValues.map((v) => [v, String(v)]);

const fixture = {
  description:
    "GrowthBook JS SDK evalFeature over Causeway's features and experiments (tests/reference/app/growthbook_features.mjs)",
  sdk: `@growthbook/growthbook ${sdkVersion}`,
  experiments,
  features,
  payload,
  hash_attribute_texts: hashAttributeTexts,
  users,
  cases,
};
// One user and one case per line: readable diffs, a third of the pretty size.
const lines = (xs) => "[\n" + xs.map((x) => "  " + JSON.stringify(x)).join(",\n") + "\n ]";
const text = JSON.stringify({ ...fixture, hash_attribute_texts: "@texts", users: "@users", cases: "@cases" }, null, 1)
  .replace('"@texts"', lines(hashAttributeTexts))
  .replace('"@users"', lines(users))
  .replace('"@cases"', lines(cases));
check(JSON.stringify(JSON.parse(text)) === JSON.stringify(fixture), "compact form round-trips");
writeFileSync(join(here, "growthbook_features.json"), text + "\n");
console.log(`growthbook_features.json: ${features.length} features, ${users.length} users, ${cases.length} cases (SDK ${sdkVersion})`);
