// Checks Kubernetes manifests against Kubernetes' own OpenAPI models, as published on npm:
//   kubernetes-models        JSON Schema validators generated from the OpenAPI spec (types,
//                            required fields, enums, formats);
//   @kubernetes/client-node  the official client's models, whose attribute maps name every field
//                            a kind has, so that a misspelt field (which the JSON Schema allows,
//                            and the API server drops or refuses) is an error here too.
// Usage: node validate_k8s.mjs FILE.yaml...   exits 1 naming each problem.
//        node validate_k8s.mjs --self-test    shows that each kind of mistake is caught.
import fs from "node:fs";
import * as k8s from "@kubernetes/client-node";
import YAML from "yaml";

/** "apps/v1" -> ["apps", "v1"]; "v1" (the core group) -> ["", "v1"]. */
function splitApiVersion(apiVersion) {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? ["", apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
}

/** The client's model class for a kind: V1Deployment, V2HorizontalPodAutoscaler, ... */
function clientModel(apiVersion, kind) {
  const [, version] = splitApiVersion(apiVersion);
  return k8s[version[0].toUpperCase() + version.slice(1) + kind];
}

/** Fields of `value` that the model `type` (a client type name) does not have. */
function unknownFields(value, type, where, problems) {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((item, i) => unknownFields(item, array[1], `${where}[${i}]`, problems));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === "object") {
      for (const [key, item] of Object.entries(value)) unknownFields(item, map[1], `${where}.${key}`, problems);
    }
    return;
  }
  const model = k8s[type];
  if (!model || typeof model.getAttributeTypeMap !== "function") return;  // scalars, IntOrString
  if (typeof value !== "object" || Array.isArray(value)) return;  // the schema check reports it
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, item] of Object.entries(value)) {
    if (!attributes.has(key)) {
      problems.push(`${where}.${key}: no such field in ${type}`);
    } else {
      unknownFields(item, attributes.get(key), `${where}.${key}`, problems);
    }
  }
}

/** Every problem with one manifest document. */
async function check(document, where) {
  const problems = [];
  if (!document || typeof document.apiVersion !== "string" || typeof document.kind !== "string") {
    return [`${where}: no apiVersion and kind`];
  }
  const { apiVersion, kind } = document;
  const [group, version] = splitApiVersion(apiVersion);
  let Schema;
  try {
    ({ [kind]: Schema } = await import(`kubernetes-models/${group ? group + "/" : ""}${version}/${kind}`));
  } catch {
    return [`${where}: ${apiVersion} ${kind} is not a Kubernetes kind`];
  }
  try {
    new Schema(document).validate();
  } catch (error) {
    problems.push(`${where}: ${error.message}`);
  }
  const model = clientModel(apiVersion, kind);
  if (!model) return [...problems, `${where}: the client has no model for ${apiVersion} ${kind}`];
  unknownFields(document, model.name, `${where} ${kind}`, problems);
  return problems;
}

async function checkFiles(files) {
  const problems = [];
  let documents = 0;
  for (const file of files) {
    const parsed = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
    for (const [i, document] of parsed.entries()) {
      if (document.errors.length > 0) {
        problems.push(`${file}#${i}: ${document.errors[0].message}`);
        continue;
      }
      const value = document.toJS();
      if (value === null) continue;  // an empty document
      ++documents;
      problems.push(...(await check(value, `${file}#${i}`)));
    }
  }
  return { problems, documents };
}

async function selfTest() {
  const deployment = () => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "x" },
    spec: {
      selector: { matchLabels: { app: "x" } },
      template: {
        metadata: { labels: { app: "x" } },
        spec: { containers: [{ name: "c", image: "i:1", imagePullPolicy: "IfNotPresent" }] },
      },
    },
  });
  const cases = [
    ["a valid Deployment", deployment(), true],
    ["a misspelt field", (() => { const d = deployment(); d.spec.template.spec.containers[0].imagePulPolicy = "Always"; return d; })(), false],
    ["a string where an integer goes", (() => { const d = deployment(); d.spec.replicas = "three"; return d; })(), false],
    ["a required field left out", (() => { const d = deployment(); delete d.spec.selector; return d; })(), false],
    ["an unknown kind", { apiVersion: "apps/v1", kind: "Deploymint", metadata: { name: "x" } }, false],
  ];
  let failed = 0;
  for (const [name, document, valid] of cases) {
    const problems = await check(document, name);
    const ok = (problems.length === 0) === valid;
    if (!ok) ++failed;
    console.log(`${ok ? "ok  " : "FAIL"} ${name}: ${problems.length === 0 ? "accepted" : problems[0]}`);
  }
  return failed;
}

const args = process.argv.slice(2);
if (args[0] === "--self-test") {
  process.exit((await selfTest()) === 0 ? 0 : 1);
}
const { problems, documents } = await checkFiles(args);
for (const problem of problems) console.error(problem);
console.log(`${documents} manifests checked, ${problems.length} problems`);
process.exit(problems.length === 0 && documents > 0 ? 0 : 1);
