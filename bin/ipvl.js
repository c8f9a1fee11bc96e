#!/usr/bin/env node
// The `ipvl` command: the compiled CLI (npm run build) does the work.
let cli;
try {
  cli = await import("../dist/src/cli/main.js");
} catch (e) {
  if (e?.code !== "ERR_MODULE_NOT_FOUND" || !String(e.message).includes("dist/src/cli/main.js")) throw e;
  process.stderr.write("ipvl: the CLI is not built yet (run: npm run build)\n");
  process.exit(125);
}
process.exitCode = await cli.main(process.argv.slice(2));
