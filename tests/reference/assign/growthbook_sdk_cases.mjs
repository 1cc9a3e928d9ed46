// Hash values and variant choices computed by GrowthBook's JavaScript SDK
// (npm @growthbook/growthbook, the exact version pinned in package.json and
// package-lock.json), for user ids and seeds with non-ASCII characters.
// Writes growthbook_sdk_unicode.json next to this script; tests/assign/
// growthbook_sdk_test.cc checks causeway::assign against every case.
//
//   cd tests/reference/assign && npm ci && node growthbook_sdk_cases.mjs
//
// Deterministic: the ids, seeds and experiments come from a seeded PRNG, so
// rerunning it must reproduce the committed file byte for byte.
//
// What comes from where:
// - `hash` and `inNamespace` are the SDK's own functions (dist/esm/util.mjs,
//   the module its core.mjs imports). The package does not export them from its
//   root, so they are imported by file path. Every hash value is also checked
//   below against GrowthBook#run, the public API.
// - `run` cases are GrowthBook#run on one experiment with attributes {id: user}.
// - `invalid_utf8` cases decode byte strings with the WHATWG UTF-8 decoder
//   (`new TextDecoder("utf-8", {ignoreBOM: true})`: each maximal ill-formed
//   subsequence becomes U+FFFD, a leading BOM is kept) and hash the result.
import { writeFileSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { GrowthBook } from "@growthbook/growthbook";

const here = dirname(fileURLToPath(import.meta.url));
const sdkDir = join(here, "node_modules", "@growthbook", "growthbook");
const sdkVersion = JSON.parse(readFileSync(join(sdkDir, "package.json"), "utf8")).version;
const { hash, inNamespace } = await import(join(sdkDir, "dist", "esm", "util.mjs"));

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
const rand = Prng(20261123);
const randInt = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1)); // inclusive
const pick = (xs) => xs[randInt(0, xs.length - 1)];

// Code point ranges a random id draws from. No surrogates (U+D800..U+DFFF):
// they have no UTF-8 form, so no valid id contains one.
const kPools = [
  [0x30, 0x39], // digits
  [0x61, 0x7a], // a-z
  [0x41, 0x5a], // A-Z
  [0xc0, 0x17f], // Latin-1 Supplement, Latin Extended-A (2-byte UTF-8)
  [0x391, 0x4ff], // Greek, Cyrillic
  [0x4e00, 0x9fff], // CJK (3-byte UTF-8)
  [0xac00, 0xd7a3], // Hangul
  [0xe000, 0xfffd], // private use .. specials: above the surrogates, one unit
  [0x1f300, 0x1faff], // emoji (4-byte UTF-8, surrogate pairs)
  [0x10000, 0x10ffff], // any supplementary code point
];

function randomId(maxLength) {
  const n = randInt(1, maxLength);
  let s = "";
  for (let i = 0; i < n; ++i) {
    const [lo, hi] = rand() < 0.4 ? kPools[randInt(0, 2)] : pick(kPools);
    s += String.fromCodePoint(randInt(lo, hi));
  }
  return s;
}

const users = [
  // ASCII: must hash as before.
  "1",
  "user-42",
  "a@b.example",
  "9f86d081-884c-4d3c-9d4f-6a1b2c3d4e5f",
  // The ids from the issue and their neighbours.
  "用户42",
  "usuário-7-ñ",
  "😀-user",
  "😀",
  "José",
  "Zoë Ünïcödé",
  "ÄÖÜ-ユーザー",
  "Москва-17",
  "Ωμέγα",
  "사용자-9",
  "مستخدم",
  "ｆｕｌｌｗｉｄｔｈ", // U+FF46.. : above U+E000, where UTF-16 and code point order differ
  "\ue000private",
  "\ufffdreplacement",
  "\ufeffbom-first", // a leading BOM is part of the id
  "a\u0301", // "a" + combining acute: not normalised, differs from "á"
  "á",
  "👩‍💻 dev", // ZWJ sequence: three code points, five units
  "🇧🇷",
  "𝔘𝔰𝔢𝔯", // mathematical fraktur, astral
  "𠀀𠀁", // CJK Extension B, astral
  "\u{10ffff}",
  "\u{10000}",
  "nul\u0000inside",
  "tab\there",
  "x".repeat(40) + "ñ",
  "ñ" + "x".repeat(40),
  "€".repeat(30),
];
for (let i = 0; i < 68; ++i) users.push(randomId(i < 34 ? 8 : 24));

const seeds = [
  "",
  "exp-1",
  "checkout-button",
  "实验-种子",
  "usuário-ñ",
  "🚀-launch",
  "pricing-€",
  "Ünïcödé-test",
  randomId(10),
  randomId(10),
];
const namespaces = ["pricing", "命名空间", "ns-😀"];

// hash(seed, user, version) for v1 and v2: [seed, value, version, hash].
const hashCases = [];
for (const seed of seeds) {
  for (const user of users) {
    for (const version of [1, 2]) hashCases.push([seed, user, version, hash(seed, user, version)]);
  }
}

// Namespace hash hash("__" + id, user, 1) and membership of [0, 0.5) from the
// SDK's inNamespace: [user, namespace id, hash, in [0, 0.5)].
const namespaceCases = [];
for (const ns of namespaces) {
  for (const user of users) {
    const h = hash("__" + ns, user, 1);
    const inside = inNamespace(user, [ns, 0, 0.5]);
    check(inside === (h < 0.5), "inNamespace agrees with hash");
    namespaceCases.push([user, ns, h, inside]);
  }
}

// 24 random experiments, every user: GrowthBook#run. Each result is
// [variation or -1 when not in the experiment, bucket (the hash) or null].
function RandomExperiment(i) {
  const key = i % 3 === 0 ? "exp-" + i + "-" + randomId(4) : "exp-" + i;
  const arms = randInt(2, 4);
  const exp = { key, variations: [...Array(arms).keys()] };
  const seedChoice = rand();
  if (seedChoice < 0.6) exp.seed = seedChoice < 0.3 ? pick(seeds.slice(1)) : randomId(12);
  if (rand() < 0.7) {
    const raw = Array.from({ length: arms }, () => 0.05 + rand());
    const total = raw.reduce((a, b) => a + b, 0);
    exp.weights = raw.map((w) => Math.round((w / total) * 1e4) / 1e4);
  }
  const coverageChoice = rand();
  if (coverageChoice < 0.35) exp.coverage = Math.round((0.2 + 0.8 * rand()) * 100) / 100;
  exp.hashVersion = i % 2 === 0 ? 2 : 1;
  if (rand() < 0.3) {
    const start = Math.round(rand() * 0.5 * 100) / 100;
    exp.namespace = [pick(namespaces), start, Math.round((start + 0.3 + 0.2 * rand()) * 100) / 100];
  }
  return exp;
}

const runCases = [];
for (let i = 0; i < 24; ++i) {
  const exp = RandomExperiment(i);
  const results = [];
  for (const user of users) {
    const gb = new GrowthBook({ attributes: { id: user } });
    const r = gb.run(exp);
    gb.destroy();
    const variation = r.inExperiment ? r.variationId : -1;
    const bucket = r.bucket === undefined ? null : r.bucket;
    if (bucket !== null) {
      check(bucket === hash(exp.seed || exp.key, user, exp.hashVersion), "run bucket is hash()");
    }
    results.push([variation, bucket]);
  }
  runCases.push({ experiment: exp, results });
}

// Byte strings that are not valid UTF-8 (and a few valid ones around them).
// [seed bytes as hex, value bytes as hex, UTF-16 units of the decoded value,
//  hash v1, hash v2] with hash(decode(seed), decode(value), version).
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const hexToBytes = (hex) => Uint8Array.from(hex.match(/../g) || [], (b) => parseInt(b, 16));
const unitsOf = (s) => Array.from({ length: s.length }, (_, i) => s.charCodeAt(i));
const invalidValues = [
  "80", // lone continuation byte
  "bf",
  "a0a1",
  "c0", // never valid lead bytes
  "c1bf",
  "c080", // overlong NUL
  "c2", // truncated 2-byte
  "c241",
  "c3a9", // valid é
  "c328",
  "e7", // truncated 3-byte
  "e794", // truncated "用" (e7 94 a8)
  "e79441",
  "e794a8e688b7", // valid 用户
  "e08080", // overlong 3-byte
  "e09fbf",
  "e0a080", // valid U+0800
  "eda080", // UTF-16 surrogate U+D800 encoded (CESU-8 / WTF-8)
  "edbfbf",
  "ed9fbf", // valid U+D7FF
  "eda0bdedb880", // surrogate pair of 😀 encoded separately
  "ee8080", // valid U+E000
  "efbfbd", // valid U+FFFD
  "efbbbf61", // BOM then "a": the BOM is kept
  "f0", // truncated 4-byte
  "f09f98", // truncated 😀 (f0 9f 98 80)
  "f09f9841",
  "f09f9880", // valid 😀
  "41f09f988042",
  "f08fbfbf", // overlong 4-byte
  "f0908080", // valid U+10000
  "f48fbfbf", // valid U+10FFFF
  "f4908080", // above U+10FFFF
  "f5808080",
  "f8888080", // old 5-byte form
  "fc8480808080", // old 6-byte form
  "fe",
  "ff",
  "fffe",
  "e180e2f09192f1bf41", // Unicode 15 Table 3-8: U+FFFD x4 then "A"
  "61f1808080e18080c2624380", // Unicode 15 Table 3-9-like mix
  "757365722d" + "e794", // "user-" + truncated
];
for (let i = 0; i < 18; ++i) {
  const n = randInt(1, 12);
  let hex = "";
  for (let k = 0; k < n; ++k) {
    // Mostly high bytes, so most strings are ill-formed somewhere.
    const b = rand() < 0.25 ? randInt(0x20, 0x7e) : randInt(0x80, 0xff);
    hex += b.toString(16).padStart(2, "0");
  }
  invalidValues.push(hex);
}
const invalidCases = [];
for (const valueHex of invalidValues) {
  const value = decoder.decode(hexToBytes(valueHex));
  invalidCases.push(["657870", valueHex, unitsOf(value), hash("exp", value, 1), hash("exp", value, 2)]);
}
// Ill-formed seeds, decoded separately from the (valid) value as JS would
// receive two strings: a truncated seed is not completed by the value.
for (const [seedHex, valueHex] of [
  ["e794", "a8"],
  ["e7", "94a8"],
  ["f09f", "9880"],
  ["eda080", "41"],
  ["c3", "a9"],
  ["e5ae9ee9aa8c", "e794a8e688b734"], // 实验 + 用户4: both valid
]) {
  const seed = decoder.decode(hexToBytes(seedHex));
  const value = decoder.decode(hexToBytes(valueHex));
  invalidCases.push([seedHex, valueHex, unitsOf(value), hash(seed, value, 1), hash(seed, value, 2)]);
}

// One case per line keeps diffs readable.
function Lines(name, cases, last) {
  const body = cases.map((c) => "  " + JSON.stringify(c)).join(",\n");
  return ` ${JSON.stringify(name)}: [\n${body}\n ]${last ? "" : ","}\n`;
}
const out =
  "{\n" +
  ` "generator": "tests/reference/assign/growthbook_sdk_cases.mjs",\n` +
  ` "sdk": ${JSON.stringify("@growthbook/growthbook " + sdkVersion)},\n` +
  ` "users": ${JSON.stringify(users)},\n` +
  Lines("hash", hashCases) +
  Lines("namespace", namespaceCases) +
  Lines("run", runCases) +
  Lines("invalid_utf8", invalidCases, true) +
  "}\n";
JSON.parse(out);
writeFileSync(join(here, "growthbook_sdk_unicode.json"), out, "utf8");
console.log(
  `wrote growthbook_sdk_unicode.json: ${hashCases.length} hash, ${namespaceCases.length} namespace, ` +
    `${runCases.length} experiments x ${users.length} users, ${invalidCases.length} invalid UTF-8`,
);
