// Unit tests of the harness pieces that need no bash: protocol, sleep arguments, stdin policy,
// command queue, and the server seen from a raw TCP client.

import assert from "node:assert/strict";
import net from "node:net";
import { describe, test } from "node:test";
import { CommandQueue } from "../../src/cli/run/command-queue.ts";
import {
  encodeOutput,
  encodeRequest,
  escapeField,
  LineSplitter,
  parseRequest,
  unescapeField,
} from "../../src/cli/run/protocol.ts";
import { ShimServer } from "../../src/cli/run/server.ts";
import {
  defaultReadsStdin,
  exitCodeForAbort,
  parseSleepArgs,
  SIMULATED_TOOLS,
} from "../../src/cli/run/index.ts";
import { FakeUserland } from "./fake-userland.ts";

describe("protocol", () => {
  test("escape/unescape round-trips, and escaped fields hold no newline or separator", () => {
    for (const s of ["", "plain", "a\\b", "\\n", "x\ny", "\x1f", "\\\\u\n\x1f\\", "é✓"]) {
      const e = escapeField(s);
      assert.ok(!e.includes("\n") && !e.includes("\x1f"), JSON.stringify(e));
      assert.equal(unescapeField(e), s);
    }
  });

  test("a request line decodes to what was encoded", () => {
    const req = { pid: 42, tool: "ip", netns: "ns 0", cwd: "/tmp/x\ny", argv: ["ip", "-n", "a\x1fb", ""] };
    const line = encodeRequest("tok", req);
    assert.ok(line.endsWith("\n") && line.indexOf("\n") === line.length - 1);
    const rest = line.slice("IPVL1 tok\x1f".length, -1);
    assert.deepEqual(parseRequest(rest), req);
    assert.throws(() => parseRequest("Tip"), /Incomplete request/);
    assert.throws(() => parseRequest("Tip\x1fAip\x1fZzz"), /Cannot parse request field "Zzz"/);
  });

  test("output frames carry the UTF-8 byte length", () => {
    assert.equal(encodeOutput("out", "é\n"), "13\né\n");
    assert.equal(encodeOutput("err", "x"), "21\nx");
    assert.equal(encodeOutput("out", ""), "");
  });

  test("LineSplitter joins chunks and enforces its budget", () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push(Buffer.from("ab"), 10), []);
    assert.deepEqual(s.push(Buffer.from("c\nd\ne"), 10), ["abc", "d"]);
    assert.throws(() => s.push(Buffer.from("0123456789ab"), 10), /Line too long/);
  });
});

describe("sleep arguments (coreutils)", () => {
  const ok = (args: string[]) => {
    const r = parseSleepArgs(args);
    assert.equal(r.kind, "sleep", JSON.stringify(r));
    return r.kind === "sleep" ? r.seconds : Number.NaN;
  };
  test("numbers, suffixes, sums, inf", () => {
    assert.equal(ok(["1.5"]), 1.5);
    assert.equal(ok([".5", "1m", "1h", "1d", "2s"]), 0.5 + 60 + 3600 + 86400 + 2);
    assert.equal(ok(["1e2"]), 100);
    assert.equal(ok(["0x10"]), 16);
    assert.equal(ok(["0x1p-4"]), 1 / 16);
    assert.equal(ok(["inf"]), Number.POSITIVE_INFINITY);
    assert.equal(ok(["--", "3"]), 3);
  });
  test("errors and their messages", () => {
    const err = (args: string[], env: Record<string, string> = {}) => {
      const r = parseSleepArgs(args, env);
      assert.equal(r.kind, "print");
      return r.kind === "print" ? [r.code, r.stderr] : [];
    };
    const tryHelp = "Try 'sleep --help' for more information.\n";
    assert.deepEqual(err([]), [1, `sleep: missing operand\n${tryHelp}`]);
    assert.deepEqual(err(["abc", "1x", "2"]), [
      1,
      `sleep: invalid time interval 'abc'\nsleep: invalid time interval '1x'\n${tryHelp}`,
    ]);
    assert.deepEqual(err(["1e"], { LANG: "C.UTF-8" }), [
      1,
      `sleep: invalid time interval \u20181e\u2019\n${tryHelp}`,
    ]);
    assert.deepEqual(err(["nan"]), [1, `sleep: invalid time interval 'nan'\n${tryHelp}`]);
    assert.deepEqual(err(["1", "-x"]), [1, `sleep: invalid option -- 'x'\n${tryHelp}`]);
    assert.deepEqual(err(["--foo"]), [1, `sleep: unrecognized option '--foo'\n${tryHelp}`]);
    assert.deepEqual(err(["-"]), [1, `sleep: invalid time interval '-'\n${tryHelp}`]);
  });
});

describe("stdin policy and abort codes", () => {
  test("defaultReadsStdin", () => {
    assert.equal(defaultReadsStdin("nft", ["nft", "-f", "-"]), true);
    assert.equal(defaultReadsStdin("nft", ["nft", "--file", "/dev/stdin"]), true);
    assert.equal(defaultReadsStdin("nft", ["nft", "-f", "rules.nft"]), false);
    assert.equal(defaultReadsStdin("nft", ["nft", "list", "ruleset"]), false);
    assert.equal(defaultReadsStdin("ip", ["ip", "-batch", "-"]), true);
    assert.equal(defaultReadsStdin("ip", ["ip", "-b", "-"]), true);
    assert.equal(defaultReadsStdin("ip", ["ip", "--batch", "-"]), true);
    assert.equal(defaultReadsStdin("ip", ["ip", "link", "show"]), false);
    assert.equal(defaultReadsStdin("tcpdump", ["tcpdump", "-r", "-"]), false);
  });
  test("exitCodeForAbort", () => {
    assert.equal(exitCodeForAbort("SIGINT"), 130);
    assert.equal(exitCodeForAbort("SIGTERM"), 143);
    assert.equal(exitCodeForAbort("SIGHUP"), 129);
    assert.equal(exitCodeForAbort("shutdown"), null);
    assert.ok(SIMULATED_TOOLS.includes("sleep"));
  });
});

describe("CommandQueue", () => {
  test("one job at a time in order; detach lets the next start", async () => {
    const q = new CommandQueue();
    const log: string[] = [];
    let finishA!: () => void;
    const a = q.enqueue(
      (detach) =>
        new Promise<void>((resolve) => {
          log.push("a start");
          finishA = () => {
            log.push("a end");
            resolve();
          };
          setTimeout(detach, 10);
        }),
    );
    const b = q.enqueue(async () => {
      log.push("b");
      await new Promise((r) => setTimeout(r, 10));
      log.push("b end");
    });
    const c = q.enqueue(async () => {
      log.push("c");
    });
    await b;
    await c;
    finishA();
    await a;
    assert.deepEqual(log, ["a start", "b", "b end", "c", "a end"]);
  });

  test("without detach the next job waits; a throwing job does not block the queue", async () => {
    const q = new CommandQueue();
    const log: string[] = [];
    const a = q.enqueue(async () => {
      await new Promise((r) => setTimeout(r, 20));
      log.push("a");
      throw new Error("boom");
    });
    const b = q.enqueue(async () => {
      log.push("b");
    });
    await assert.rejects(a, /boom/);
    await b;
    assert.deepEqual(log, ["a", "b"]);
  });
});

/** Connects, sends `data`, resolves with everything the server sent until it closed. */
function exchange(
  port: number,
  data: string,
  more?: (s: net.Socket, got: () => string) => void,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = "";
    const s = net.connect(port, "127.0.0.1", () => {
      s.write(data);
      more?.(s, () => got);
    });
    s.on("data", (d) => {
      got += d.toString("utf8");
    });
    s.on("close", () => resolve(got));
    s.on("error", reject);
  });
}

describe("ShimServer (raw client)", () => {
  const req = (argv: string[], tool = argv[0]!) => ({ pid: process.pid, tool, netns: null, cwd: "/", argv });

  test("a wrong token is dropped before anything runs", async () => {
    const ul = new FakeUserland();
    const server = await ShimServer.start({ userland: ul, tools: new Set(SIMULATED_TOOLS) });
    try {
      const bad = await exchange(server.port, encodeRequest("0".repeat(64), req(["ip", "link", "show"])));
      assert.equal(bad, "");
      const short = await exchange(server.port, "IPVL1 x\x1fTip\x1fAip\n");
      assert.equal(short, "");
      assert.equal(ul.calls.length, 0);
      const good = await exchange(server.port, encodeRequest(server.token, req(["ip", "args", "x"])));
      assert.equal(good, "14\n[x]\nx0\n");
      assert.equal(ul.calls.length, 1);
      assert.equal(ul.calls[0]!.env.PATH, process.env.PATH); // read from /proc/<pid>/environ
    } finally {
      await server.close();
    }
  });

  test("stdin is requested with an I frame; K aborts a running command", async () => {
    const ul = new FakeUserland();
    const server = await ShimServer.start({ userland: ul, tools: new Set(SIMULATED_TOOLS) });
    try {
      const nft = await exchange(
        server.port,
        encodeRequest(server.token, req(["nft", "-f", "-"])),
        (s, got) => {
          const poll = setInterval(() => {
            if (got() === "I\n") {
              clearInterval(poll);
              s.write("Ia\\nb\\n\n");
            }
          }, 2);
        },
      );
      assert.equal(nft, "I\n121\nnft read 2 lines\na\nb\nx0\n");

      const td = await exchange(
        server.port,
        encodeRequest(server.token, req(["tcpdump", "-i", "e0"])),
        (s) => {
          setTimeout(() => s.write("KSIGINT\n"), 30);
        },
      );
      assert.match(td, /^2\d+\ntcpdump: listening on e0.*\n1\d+\npacket 1 on e0/s);
      assert.match(td, /\d+ packets captured\n.*x0\n$/s);
    } finally {
      await server.close();
    }
  });

  test("unknown tools are refused; a queued command whose client vanished does not run", async () => {
    const ul = new FakeUserland();
    const server = await ShimServer.start({ userland: ul, tools: new Set(SIMULATED_TOOLS) });
    try {
      const r = await exchange(server.port, encodeRequest(server.token, req(["rm", "-rf", "/"])));
      assert.equal(r, "262\nipvl: rm: not simulated (the host's rm is not run under ipvl)\nx127\n");
      // `sleep inf` holds the queue (it never detaches); `ip` queued behind it, then dropped.
      const sleeper = exchange(server.port, encodeRequest(server.token, req(["sleep", "inf"])), (s) => {
        setTimeout(() => s.write("KSIGTERM\n"), 80);
      });
      await new Promise<void>((resolve) => {
        const s = net.connect(server.port, "127.0.0.1", () => {
          s.write(encodeRequest(server.token, req(["ip", "args", "dropped"])));
          setTimeout(() => {
            s.destroy();
            resolve();
          }, 20);
        });
      });
      assert.equal(await sleeper, "x143\n");
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(
        ul.calls.map((c) => c.argv.join(" ")),
        ["sleep Infinity"],
      );
    } finally {
      await server.close();
    }
  });
});
