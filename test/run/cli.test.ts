// The `ipvl` command line (main.ts, bin/ipvl.js) and `ipvl shell`.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { main, type MainDeps } from "../../src/cli/main.ts";
import { runShell } from "../../src/cli/run/index.ts";
import { FakeUserland } from "./fake-userland.ts";
import { Collector } from "./harness.ts";

const ROOT = fileURLToPath(
  new URL(import.meta.url.includes("/dist/") ? "../../../" : "../../", import.meta.url),
);
const BIN = join(ROOT, "bin", "ipvl.js");

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const deps: MainDeps = {
    makeUserland: () => new FakeUserland(),
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
  };
  const code = await main(argv, deps);
  return { code, out, err };
}

describe("ipvl CLI", () => {
  test("--help, --version", async () => {
    const help = await cli(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.out, /^Usage: ipvl COMMAND/);
    assert.match(help.out, /run \[--real\] SCRIPT/);
    const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
    assert.deepEqual(await cli(["--version"]), { code: 0, out: `ipvl ${version}\n`, err: "" });
  });

  test("usage errors exit 2", async () => {
    for (const argv of [[], ["bogus"], ["run"], ["run", "--frob", "x.sh"], ["shell", "x"]]) {
      const r = await cli(argv);
      assert.equal(r.code, 2, argv.join(" "));
      assert.equal(r.out, "");
      assert.ok(r.err.length > 0);
    }
    assert.match((await cli(["bogus"])).err, /^ipvl: unknown command "bogus"\nTry 'ipvl --help'/);
  });

  test("run --real is not available yet (exit 2)", async () => {
    assert.deepEqual(await cli(["run", "--real", "x.sh"]), {
      code: 2,
      out: "",
      err: "ipvl: --real is not available yet\n",
    });
  });

  test("bin/ipvl.js runs a script with inherited stdio and the script's exit code", () => {
    const dir = mkdtempSync(join(tmpdir(), "ipvl-cli-test-"));
    try {
      writeFileSync(join(dir, "s.sh"), 'echo "args: $*"\nip link show; echo "ip rc=$?"\nexit 4\n');
      const r = spawnSync(process.execPath, [BIN, "run", "s.sh", "a", "--real"], {
        cwd: dir,
        encoding: "utf8",
      });
      assert.equal(r.status, 4, r.stderr);
      // A fresh simulated kernel: the initial namespace has only lo (up, as after boot).
      assert.equal(
        r.stdout,
        "args: a --real\n" +
          "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n" +
          "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n" +
          "ip rc=0\n",
      );
      assert.equal(r.stderr, "");
      const v = spawnSync(process.execPath, [BIN, "--version"], { encoding: "utf8" });
      assert.match(v.stdout, /^ipvl \d+\.\d+\.\d+/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("ipvl shell", () => {
  test("an interactive bash with the ipvl environment and prompt", async () => {
    const stdout = new Collector();
    const stderr = new Collector();
    const code = await runShell({
      userland: new FakeUserland(),
      stdin: Readable.from([
        "ip netns add x\nip netns exec x ip link show | head -1\n[ -e /sys/class/net/eth0 ] && echo yes\nexit 5\n",
      ]),
      stdout,
      stderr,
      signal: AbortSignal.timeout(30_000),
    });
    assert.equal(code, 5);
    assert.equal(stdout.text, "1: lo: <LOOPBACK,UP,LOWER_UP> netns=x\nyes\n");
    assert.match(stderr.text, /ipvl\$ /);
  });
});
