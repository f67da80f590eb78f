// Checks deploy/monitoring against the service: every metric the Grafana dashboard and the
// alerting rules query is one the service exports (as the sources that register metrics name
// them), and every dashboard query is valid PromQL (promtool parses them as recording rules).
// Usage: node check_monitoring.mjs PROMTOOL SOURCE.cc... DASHBOARD.json RULES.yaml
//        exits 1 naming each problem.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";

const args = process.argv.slice(2);
const [promtool, dashboardFile, rulesFile] = [args[0], args.at(-2), args.at(-1)];
const metricsSources = args.slice(1, -2);
const problems = [];

// The series the service exports: the names metrics.cc gives its families; a histogram also
// exports _bucket, _sum and _count.
const exported = new Set();
for (const source of metricsSources) {
  const before = exported.size;
  for (const [, name] of fs.readFileSync(source, "utf8").matchAll(/"((?:grpc_server|usersvc)_[a-z_]+)"/g)) {
    exported.add(name);
    for (const suffix of ["_bucket", "_sum", "_count"]) exported.add(name + suffix);
  }
  if (exported.size === before) problems.push(`${source}: no metric names found`);
}

function checkNames(expr, where) {
  // Recorded series (level:metric:operation, with colons) are the rules' own, not the service's.
  for (const [name] of expr.matchAll(/(?<![:\w])(?:grpc_server|usersvc)_[a-z_]+(?![:\w])/g)) {
    if (!exported.has(name)) problems.push(`${where}: ${name} is not a metric the service exports`);
  }
}

// The dashboard: panels with a datasource, a position and queries.
const dashboard = JSON.parse(fs.readFileSync(dashboardFile, "utf8"));
const queries = [];
const ids = new Set();
for (const panel of dashboard.panels ?? []) {
  const where = `${dashboardFile}: panel "${panel.title}"`;
  if (ids.has(panel.id)) problems.push(`${where}: id ${panel.id} used twice`);
  ids.add(panel.id);
  if (!panel.gridPos || !panel.datasource) problems.push(`${where}: no gridPos or datasource`);
  if (!panel.targets?.length) problems.push(`${where}: no queries`);
  for (const target of panel.targets ?? []) {
    checkNames(target.expr, where);
    queries.push({ where, expr: target.expr });
  }
}
if (queries.length === 0) problems.push(`${dashboardFile}: no queries`);

// The rules' expressions use exported metrics too (promtool checks their syntax itself).
const rules = YAML.parse(fs.readFileSync(rulesFile, "utf8"));
for (const group of rules.groups) {
  for (const rule of group.rules) checkNames(rule.expr, `${rulesFile}: ${rule.alert ?? rule.record}`);
}

// Grafana's variables replaced by what they stand for, then each query as a recording rule.
const substituted = queries.map(({ expr }) =>
  expr.replaceAll("$__rate_interval", "5m").replaceAll("$instance", ".*"));
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "usersvc-dashboard-"));
const asRules = path.join(scratch, "dashboard-queries.yaml");
fs.writeFileSync(asRules, YAML.stringify({
  groups: [{ name: "dashboard", rules: substituted.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) }],
}));
try {
  execFileSync(promtool, ["check", "rules", asRules], { stdio: "pipe" });
} catch (error) {
  problems.push(`${dashboardFile}: a query is not valid PromQL:\n${error.stdout}${error.stderr}`);
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}

for (const problem of problems) console.error(problem);
console.log(`${queries.length} dashboard queries, ${exported.size} exported series names, ${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);
