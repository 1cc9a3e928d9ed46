// api/openapi.yaml checked by a real validator: @apidevtools/swagger-parser
// (pinned by web/package-lock.json) parses the YAML, resolves every $ref and
// validates the document against the OpenAPI 3.0 schema.
//
//   node web/test/openapi_test.mjs [path/to/openapi.yaml]
//
// swagger-parser 10 runs its own "spec" checks (unique operationIds, declared path
// parameters) only on Swagger 2.0 documents, so this script makes those checks on
// the OpenAPI 3 document itself. Every problem is printed with its JSON path; the
// exit status is 1 when there is any (ctest `openapi_valid`, docs/api.md).
import {createRequire} from "node:module";
import path from "node:path";
import {fileURLToPath} from "node:url";

const require = createRequire(import.meta.url);
const SwaggerParser = require("@apidevtools/swagger-parser");

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, "..", "..");
const file = path.resolve(process.argv[2] || path.join(root, "api", "openapi.yaml"));
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

// Ajv reports a bad Response under `oneOf: [Reference, Response]` three times: the
// real problem, "must have required property '$ref'" and "must match exactly one
// schema in oneOf", at this path and at every enclosing one. Those two are left out
// when a real error lies at their path or below it; every other error is printed.
function leafErrors(errors) {
  const noise = (e) =>
    e.keyword === "oneOf" || (e.keyword === "required" && e.params && e.params.missingProperty === "$ref");
  const out = [];
  const seen = new Set();
  for (const e of errors) {
    const p = e.instancePath;
    const explained = errors.some(
        (o) => !noise(o) && (o.instancePath === p || o.instancePath.startsWith(p + "/")));
    if (noise(e) && explained) continue;
    let text = `#${p || "/"} ${e.message}`;
    if (e.params && e.params.additionalProperty !== undefined) {
      text += ` (${JSON.stringify(e.params.additionalProperty)})`;
    }
    if (!seen.has(text)) {
      seen.add(text);
      out.push(text);
    }
  }
  return out;
}

function pointer(...parts) {
  return "#/" + parts.map((s) => String(s).replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
}

// The checks swagger-parser 10 makes only for Swagger 2.0, on the dereferenced API.
function specProblems(api) {
  const problems = [];
  const operationIds = new Map();
  for (const [route, item] of Object.entries(api.paths || {})) {
    const templated = [...route.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const where = pointer("paths", route, method);
      if (op.operationId !== undefined) {
        if (operationIds.has(op.operationId)) {
          problems.push(`${where} duplicate operationId ${JSON.stringify(op.operationId)} ` +
                        `(also ${operationIds.get(op.operationId)})`);
        } else {
          operationIds.set(op.operationId, where);
        }
      }
      // Operation-level parameters override path-level ones with the same name and in.
      const params = new Map();
      for (const p of item.parameters || []) params.set(`${p.in}:${p.name}`, p);
      const own = new Set();
      for (const p of op.parameters || []) {
        const k = `${p.in}:${p.name}`;
        if (own.has(k)) problems.push(`${where} parameter ${JSON.stringify(p.name)} in ${p.in} given twice`);
        own.add(k);
        params.set(k, p);
      }
      const declared = [...params.values()].filter((p) => p.in === "path");
      for (const name of templated) {
        const p = declared.find((d) => d.name === name);
        if (!p) {
          problems.push(`${where} path parameter {${name}} is not declared`);
        } else if (p.required !== true) {
          problems.push(`${where} path parameter {${name}} must have required: true`);
        }
      }
      for (const p of declared) {
        if (!templated.includes(p.name)) {
          problems.push(`${where} declares path parameter ${JSON.stringify(p.name)} not in the path`);
        }
      }
    }
  }
  return problems;
}

let problems = [];
let paths = 0;
let operations = 0;
let parsed = null;
try {
  // The YAML alone first (a syntax error or a duplicate key, with its line), and the
  // size of the document even when it does not validate.
  parsed = await SwaggerParser.parse(file);
  paths = Object.keys(parsed.paths || {}).length;
  operations = Object.values(parsed.paths || {}).reduce(
      (n, item) => n + METHODS.filter((m) => item && item[m]).length, 0);
} catch (err) {
  problems = [String(err.message || err)];
}
if (parsed) {
  try {
    // continueOnError: every unresolvable $ref is reported, not only the first.
    const api = await SwaggerParser.validate(file, {continueOnError: true});
    problems = specProblems(api);
    if (paths === 0) problems.push("#/paths has no path");
  } catch (err) {
    if (Array.isArray(err.details) && err.details.length > 0 && err.details[0].instancePath !== undefined) {
      problems = leafErrors(err.details);  // the OpenAPI 3.0 schema
    } else if (Array.isArray(err.errors) && err.errors.length > 0) {
      problems = err.errors.map((e) => `${Array.isArray(e.path) ? pointer(...e.path) + " " : ""}${e.message}`);
    } else {
      problems = [String(err.message || err)];
    }
  }
}

for (const p of problems) console.error(`FAILED: ${p}`);
const ok = problems.length === 0;
console.log(`openapi: ${path.relative(root, file)}: ${paths} paths, ${operations} operations; ` +
            `${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed (${problems.length} problems)`);
process.exit(ok ? 0 : 1);
