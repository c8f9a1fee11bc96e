// A test double for the simulated userland: a toy `ip` with a namespace list, a `tcpdump` that
// emits a line every few ms until aborted, a `cat-sys` over a small table, and so on. It records
// every call so tests can check what reached the userland.

import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { type CommandContext, exitCodeForAbort, type Userland } from "../../src/cli/run/index.ts";

/** One recorded userland call. */
export interface FakeCall {
  readonly tool: string;
  readonly argv: readonly string[];
  readonly netns: string | null;
  readonly cwd: string;
  readonly stdin: string;
  readonly env: Readonly<Record<string, string>>;
}

/** /sys files per namespace ("" = initial); directories are the prefixes of the keys. */
const SYS_FILES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "": { "/sys/class/net/eth0/address": "02:00:00:00:00:02", "/sys/class/net/eth0/dev_id": "0x0" },
  ns0: { "/sys/class/net/ipvl0/address": "02:00:00:00:00:02", "/sys/class/net/ipvl0/dev_id": "0x1" },
};

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal.aborted) return done();
    const onAbort = () => {
      clearTimeout(t);
      done();
    };
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      done();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The fake; `calls` lists every `run`, `slept` the seconds of each `sleep`. */
export class FakeUserland implements Userland {
  readonly calls: FakeCall[] = [];
  readonly slept: number[] = [];
  readonly namespaces = new Set<string>();

  run(tool: string, ctx: CommandContext): Promise<number> {
    this.calls.push({
      tool,
      argv: [...ctx.argv],
      netns: ctx.netns,
      cwd: ctx.cwd,
      stdin: new TextDecoder().decode(ctx.stdin),
      env: ctx.env,
    });
    switch (tool) {
      case "ip":
        return Promise.resolve(this.#ip(ctx));
      case "nft":
        return Promise.resolve(this.#nft(ctx));
      case "tcpdump":
        return this.#tcpdump(ctx);
      case "cat-sys":
        return Promise.resolve(this.#catSys(ctx));
      case "sleep":
        return this.#sleep(ctx);
      case "ping":
        ctx.out(`PING ${ctx.argv.at(-1)} (netns ${ctx.netns ?? "-"})\n`);
        return Promise.resolve(0);
      default:
        ctx.out(`${tool} ran: ${ctx.argv.slice(1).join(" ")}\n`);
        return Promise.resolve(0);
    }
  }

  #ip(ctx: CommandContext): number {
    let args = ctx.argv.slice(1);
    let netns = ctx.netns;
    if (args[0] === "-n") {
      netns = args[1] ?? null;
      args = args.slice(2);
    }
    const [obj, cmd, name] = args;
    if (obj === "netns" && cmd === "add" && name !== undefined) {
      this.namespaces.add(name);
      return 0;
    }
    if (obj === "netns" && (cmd === "del" || cmd === "delete") && name !== undefined) {
      this.namespaces.delete(name);
      return 0;
    }
    if (obj === "netns" && (cmd === "list" || cmd === undefined)) {
      for (const n of [...this.namespaces].sort()) ctx.out(`${n} (id: 0)\n`);
      return 0;
    }
    if (obj === "link" && cmd === "show") {
      ctx.out(`1: lo: <LOOPBACK,UP,LOWER_UP> netns=${netns ?? "-"}\n`);
      ctx.out(`2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> netns=${netns ?? "-"}\n`);
      return 0;
    }
    if (obj === "args") {
      for (const a of args.slice(1)) ctx.out(`[${a}]\n`);
      return 0;
    }
    if (obj === "partial") {
      ctx.out("no newline");
      return 0;
    }
    if (obj === "mixed") {
      ctx.out("out1\n");
      ctx.err("err1\n");
      ctx.out("out2\n");
      return 0;
    }
    if (obj === "exit" && cmd !== undefined) return Number(cmd);
    if (obj === "throw") throw new Error("fake userland exploded");
    if (obj === "-batch" && cmd === "-") {
      for (const line of new TextDecoder().decode(ctx.stdin).split("\n"))
        if (line !== "") ctx.out(`batch: ${line}\n`);
      return 0;
    }
    ctx.err(`Object "${obj ?? ""}" is unknown, try "ip help".\n`);
    return 1;
  }

  #nft(ctx: CommandContext): number {
    if (ctx.argv[1] === "-f" && ctx.argv[2] === "-") {
      const text = new TextDecoder().decode(ctx.stdin);
      ctx.out(`nft read ${text.split("\n").length - 1} lines\n`);
      ctx.out(text);
      return 0;
    }
    ctx.err("Error: syntax error\n");
    return 1;
  }

  /** tcpdump [-w FILE]: "listening" on stderr, a line per 5 ms until aborted, then the stats. */
  async #tcpdump(ctx: CommandContext): Promise<number> {
    if (ctx.argv.includes("-r")) return 0; // reading a capture file: nothing recorded by the fake
    const w = ctx.argv.indexOf("-w");
    const file = w === -1 ? null : ctx.argv[w + 1]!;
    const iface = ctx.argv[ctx.argv.indexOf("-i") + 1] ?? "any";
    ctx.err(`tcpdump: listening on ${iface}, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n`);
    if (file !== null) writeFileSync(resolve(ctx.cwd, file), "");
    ctx.detach();
    let n = 0;
    while (!ctx.signal.aborted) {
      await wait(5, ctx.signal);
      if (ctx.signal.aborted) break;
      n++;
      if (file === null) ctx.out(`packet ${n} on ${iface} netns=${ctx.netns ?? "-"}\n`);
    }
    ctx.err(`${n} packets captured\n${n} packets received by filter\n0 packets dropped by kernel\n`);
    return 0;
  }

  #catSys(ctx: CommandContext): number {
    const files = SYS_FILES[ctx.netns ?? ""] ?? {};
    if (ctx.argv[0] === "test") {
      const [, op, path] = ctx.argv as [string, string, string];
      const isFile = path in files;
      const isDir = !isFile && Object.keys(files).some((f) => f.startsWith(`${path.replace(/\/$/, "")}/`));
      const ok = op === "-f" ? isFile : op === "-d" ? isDir : isFile || isDir;
      return ok ? 0 : 1;
    }
    let code = 0;
    for (const path of ctx.argv.slice(1)) {
      const v = files[path];
      if (v === undefined) {
        ctx.err(`cat: ${path}: No such file or directory\n`);
        code = 1;
      } else {
        ctx.out(`${v}\n`);
      }
    }
    return code;
  }

  async #sleep(ctx: CommandContext): Promise<number> {
    const seconds = Number(ctx.argv[1]);
    this.slept.push(seconds);
    if (Number.isFinite(seconds)) return 0;
    // `sleep inf` waits for a signal, like the real one; a marker file tells the script it began.
    writeFileSync(resolve(ctx.cwd, "sleep-inf.started"), "");
    await wait(2 ** 31 - 1, ctx.signal);
    return exitCodeForAbort(ctx.signal.reason) ?? 0;
  }
}
