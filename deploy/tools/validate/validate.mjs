// Validates Kubernetes objects offline against the API schemas of
// kubernetes-models (pinned in package.json: 4.5.1, Kubernetes 1.27.1).
//   node validate.mjs < rendered.yaml        (kubectl kustomize output)
// Two checks per object: the model's JSON-schema validation (types, enums,
// required fields), and an unknown-field check built from the models' type
// declarations (the schemas allow any extra field, so a misspelt field would
// pass unnoticed; the API server would drop or refuse it). An object of a
// kind the models do not know is an error. Prints one line per object and
// exits 1 on any error.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import YAML from "yaml";

const require = createRequire(import.meta.url);
const ROOT = path.dirname(require.resolve("kubernetes-models/package.json"));
const MACHINERY = path.dirname(require.resolve("@kubernetes-models/apimachinery/package.json"));

// --- the unknown-field check: interfaces parsed from the .d.ts files ---------
const bodies = new Map(); // full type name (IIoK8s...) -> Map(field -> type name or null)

function parseDecl(text) {
  const local = new Map();
  const iface = /^export interface (\w+)(?: extends ([\w, ]+))? \{\n([\s\S]*?)^\}/gm;
  for (let m; (m = iface.exec(text));) {
    const props = new Map();
    if (m[2] && m[2].includes("TypeMeta")) props.set("apiVersion", null).set("kind", null);
    for (const line of m[3].split("\n")) {
      const p = /^ {4}"([^"]+)"\??: (.*)$/.exec(line);
      if (!p) continue;
      const t = /^(?:Array<)?(I\w+)/.exec(p[2]);
      props.set(p[1], t ? t[1] : null);
    }
    local.set(m[1], props);
  }
  const exp = /export \{ ([^}]+) \}/g;
  for (let m; (m = exp.exec(text));) {
    for (const pair of m[1].split(",")) {
      const [a, b] = pair.trim().split(/\s+as\s+/);
      if (b && local.has(a)) bodies.set(b, local.get(a));
    }
  }
  return local;
}

function walkDir(dir, fn) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== "_schemas" && e.name !== "node_modules") walkDir(p, fn);
    else if (e.name.endsWith(".d.ts") && e.name !== "index.d.ts") fn(p);
  }
}
for (const dir of [MACHINERY, ROOT]) walkDir(dir, (p) => parseDecl(fs.readFileSync(p, "utf8")));

function unknownFields(obj, type, at, errors) {
  const props = bodies.get(type);
  if (!props || obj === null || typeof obj !== "object" || Array.isArray(obj)) return;
  for (const [k, v] of Object.entries(obj)) {
    if (!props.has(k)) {
      errors.push(`${at}/${k}: unknown field`);
      continue;
    }
    const t = props.get(k);
    if (!t || v === null || typeof v !== "object") continue;
    if (Array.isArray(v)) v.forEach((e, i) => unknownFields(e, t, `${at}/${k}/${i}`, errors));
    else unknownFields(v, t, `${at}/${k}`, errors);
  }
}

// --- one object ----------------------------------------------------------------
async function check(obj) {
  const { apiVersion, kind } = obj || {};
  if (!apiVersion || !kind) return ["no apiVersion/kind"];
  const dir = path.join(ROOT, ...apiVersion.split("/"));
  const decl = path.join(dir, `${kind}.d.ts`);
  if (!fs.existsSync(decl)) return [`${apiVersion} ${kind} is not a Kubernetes 1.27 kind`];
  const local = parseDecl(fs.readFileSync(decl, "utf8"));
  const mod = await import(path.join(dir, `${kind}.mjs`));
  const errors = [];
  try {
    new mod[kind](obj).validate();
  } catch (e) {
    for (const d of e.errors || [{ instancePath: "", message: e.message }])
      errors.push(`${d.instancePath || "/"}: ${d.message}${d.params ? " " + JSON.stringify(d.params) : ""}`);
  }
  // the root interface is local to its file (IDeployment): look it up there
  bodies.set(`I${kind}`, local.get(`I${kind}`));
  unknownFields(obj, `I${kind}`, "", errors);
  return errors;
}

const docs = YAML.parseAllDocuments(fs.readFileSync(0, "utf8"));
let bad = 0, n = 0;
for (const doc of docs) {
  if (doc.errors.length) {
    console.log(`YAML error: ${doc.errors[0].message}`);
    bad++;
    continue;
  }
  const obj = doc.toJS();
  if (obj === null) continue;
  n++;
  const name = `${obj.kind}/${obj.metadata && obj.metadata.name}`;
  const errors = await check(obj);
  if (errors.length) {
    bad++;
    console.log(`INVALID ${name}`);
    for (const e of errors) console.log(`  ${e}`);
  } else {
    console.log(`ok ${obj.apiVersion} ${name}`);
  }
}
console.log(`${n} objects, ${bad} invalid (schemas: kubernetes-models ${require("kubernetes-models/package.json").version}, Kubernetes 1.27)`);
process.exit(bad || n === 0 ? 1 : 0);
