// Checks a Compose file against the Compose specification's own JSON Schema
// (../shared/schemas/compose-spec.json, draft-07), with ajv.
// Usage: node validate_compose.mjs SCHEMA.json COMPOSE.yaml   exits 1 naming each problem.
//        node validate_compose.mjs SCHEMA.json --self-test    shows that mistakes are caught.
import fs from "node:fs";
import Ajv from "ajv";
import YAML from "yaml";

const [schemaFile, target] = process.argv.slice(2);
// The spec names draft-07 as "https://json-schema.org/draft-07/schema", which ajv (whose default
// dialect is draft-07) knows only by its http:// id: the name goes, the dialect stays the same.
const { $schema: _dialect, ...schema } = JSON.parse(fs.readFileSync(schemaFile, "utf8"));
// strict: false, because the spec uses keywords and formats of its own ("duration") that ajv does
// not define; every structural rule (properties, patterns, enums, types) is still enforced.
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const validate = ajv.compile(schema);

function problemsOf(document) {
  if (validate(document)) return [];
  return validate.errors.map((e) => `${e.instancePath || "/"} ${e.message}` +
    (e.params && e.params.additionalProperty ? `: ${e.params.additionalProperty}` : ""));
}

if (target === "--self-test") {
  const cases = [
    ["a valid file", { services: { a: { image: "x:1", ports: ["8080:8080"] } } }, true],
    ["a misspelt key", { services: { a: { image: "x:1", dependz_on: ["b"] } } }, false],
    ["a wrong type", { services: { a: { image: "x:1", ports: { p: 1 } } } }, false],
    ["an unknown condition", { services: { a: { image: "x:1", depends_on: { b: { condition: "service_ready" } } }, b: { image: "y:1" } } }, false],
  ];
  let failed = 0;
  for (const [name, document, valid] of cases) {
    const problems = problemsOf(document);
    const ok = (problems.length === 0) === valid;
    if (!ok) ++failed;
    console.log(`${ok ? "ok  " : "FAIL"} ${name}: ${problems.length === 0 ? "accepted" : problems[0]}`);
  }
  process.exit(failed === 0 ? 0 : 1);
}
const problems = problemsOf(YAML.parse(fs.readFileSync(target, "utf8")));
for (const problem of problems) console.error(`${target}: ${problem}`);
console.log(`${target}: ${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);
