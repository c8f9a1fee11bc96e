/**
 * Master-stack isolation (pitfall 2). The master's own stack receives every frame the data plane
 * switches to a slave: with forwarding on it would route the slaves' traffic a second time and
 * send ICMP redirects, and it would answer nothing but still learn from their ARP. Kernel ipvlan
 * consumes those frames in its rx_handler; here an nftables netdev ingress chain on the master
 * drops frames addressed to slave addresses before the stack sees them:
 *
 *   table netdev ipvl_<master>: sets slaves4/slaves6 (+ slaves6nd, the same IPv6 addresses as
 *   integers), chain ingress (priority -500) dropping IPv4 daddr, ARP target, IPv6 daddr and
 *   NDP solicitation targets in the sets, each under a named counter.
 *
 * AF_PACKET taps run before ingress in __netif_receive_skb_core, so the data plane's socket still
 * sees the dropped frames (measured: test/linux/isolation.test.ts). As with kernel ipvlan, the
 * master's own stack then cannot reach its slaves.
 *
 * The table survives the daemon unless destroyed, so slaves stay isolated while the data plane
 * restarts: a restarted daemon adopts it ({@link MasterIsolation.open}), re-adds its addresses
 * (idempotent) and then drops stale ones with {@link MasterIsolation.sync}, never leaving a window
 * in which the master's stack sees slave traffic.
 */
import { spawn } from "node:child_process";
import { parseIpv6 } from "../wire/index.ts";
import type { NetnsRef } from "./netns.ts";

/** Drop counters of the isolation chain (packets). */
export interface IsolationCounters {
  readonly ip4: number;
  readonly arp: number;
  readonly ip6: number;
  readonly nd: number;
}

/** The nft table name for a master: `ipvl_<master>` with characters nft rejects mapped to "_". */
export function isolationTableName(master: string): string {
  return `ipvl_${master.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

/** The netdev ingress table that hides slave traffic from the master's stack. */
export class MasterIsolation {
  /** The master interface. */
  readonly master: string;
  /** Its namespace. */
  readonly netns: NetnsRef;
  /** The nft table name. */
  readonly table: string;

  private constructor(master: string, netns: NetnsRef) {
    this.master = master;
    this.netns = netns;
    this.table = isolationTableName(master);
  }

  /** Creates (or atomically replaces) the table, with the given slave addresses. */
  static async create(
    master: string,
    netns: NetnsRef,
    addrs: readonly string[] = [],
  ): Promise<MasterIsolation> {
    const iso = new MasterIsolation(master, netns);
    const t = iso.table;
    const v4 = addrs.filter((a) => !a.includes(":"));
    const v6 = addrs.filter((a) => a.includes(":"));
    const elems = (list: string[]) => (list.length === 0 ? "" : ` elements = { ${list.join(", ")} };`);
    await iso.#nft(
      ["-f", "-"],
      `table netdev ${t} {}
delete table netdev ${t}
table netdev ${t} {
  counter drop_ip4 {}
  counter drop_arp {}
  counter drop_ip6 {}
  counter drop_nd {}
  set slaves4 { type ipv4_addr;${elems(v4)} }
  set slaves6 { type ipv6_addr;${elems(v6)} }
  set slaves6nd { typeof @th,64,128;${elems(v6.map(ndKey))} }
  chain ingress {
    type filter hook ingress device "${master}" priority -500; policy accept;
    ip daddr @slaves4 counter name "drop_ip4" drop
    arp daddr ip @slaves4 counter name "drop_arp" drop
    ip6 daddr @slaves6 counter name "drop_ip6" drop
    icmpv6 type nd-neighbor-solicit @th,64,128 @slaves6nd counter name "drop_nd" drop
  }
}
`,
    );
    return iso;
  }

  /** Adopts the master's existing table (left by a previous daemon), or creates an empty one. */
  static async open(master: string, netns: NetnsRef): Promise<MasterIsolation> {
    const iso = new MasterIsolation(master, netns);
    try {
      await iso.#nft(["list", "table", "netdev", iso.table]);
      return iso;
    } catch {
      return MasterIsolation.create(master, netns);
    }
  }

  /** Sets the address sets to exactly `addrs`, atomically (one nft transaction). */
  async sync(addrs: readonly string[]): Promise<void> {
    const t = this.table;
    let script = `flush set netdev ${t} slaves4\nflush set netdev ${t} slaves6\nflush set netdev ${t} slaves6nd\n`;
    const v4 = addrs.filter((a) => !a.includes(":"));
    const v6 = addrs.filter((a) => a.includes(":"));
    if (v4.length > 0) script += `add element netdev ${t} slaves4 { ${v4.join(", ")} }\n`;
    if (v6.length > 0) {
      script += `add element netdev ${t} slaves6 { ${v6.join(", ")} }\n`;
      script += `add element netdev ${t} slaves6nd { ${v6.map(ndKey).join(", ")} }\n`;
    }
    await this.#nft(["-f", "-"], script);
  }

  /** The IPv4 and IPv6 addresses in the sets, as nft prints them. */
  async addresses(): Promise<string[]> {
    const out = await this.#nft(["-j", "list", "table", "netdev", this.table]);
    const json = JSON.parse(out) as { nftables: { set?: { name: string; elem?: unknown[] } }[] };
    const res: string[] = [];
    for (const o of json.nftables) {
      if (o.set !== undefined && (o.set.name === "slaves4" || o.set.name === "slaves6")) {
        for (const e of o.set.elem ?? []) if (typeof e === "string") res.push(e);
      }
    }
    return res;
  }

  /** Adds slave addresses (IPv4 or IPv6 text) to the sets. */
  async add(...addrs: string[]): Promise<void> {
    await this.#elements("add", addrs);
  }

  /** Removes slave addresses from the sets. */
  async delete(...addrs: string[]): Promise<void> {
    await this.#elements("delete", addrs);
  }

  /** Reads the drop counters. */
  async counters(): Promise<IsolationCounters> {
    const out = await this.#nft(["-j", "list", "counters", "table", "netdev", this.table]);
    const res: Record<string, number> = { ip4: 0, arp: 0, ip6: 0, nd: 0 };
    const json = JSON.parse(out) as { nftables: { counter?: { name: string; packets: number } }[] };
    for (const o of json.nftables) {
      if (o.counter !== undefined) res[o.counter.name.replace(/^drop_/, "")] = o.counter.packets;
    }
    return res as unknown as IsolationCounters;
  }

  /** Deletes the table (idempotent). */
  async destroy(): Promise<void> {
    await this.#nft(["-f", "-"], `table netdev ${this.table} {}\ndelete table netdev ${this.table}\n`);
  }

  async #elements(verb: "add" | "delete", addrs: readonly string[]): Promise<void> {
    const v4 = addrs.filter((a) => !a.includes(":"));
    const v6 = addrs.filter((a) => a.includes(":"));
    let script = "";
    if (v4.length > 0) script += `${verb} element netdev ${this.table} slaves4 { ${v4.join(", ")} }\n`;
    if (v6.length > 0) {
      script += `${verb} element netdev ${this.table} slaves6 { ${v6.join(", ")} }\n`;
      script += `${verb} element netdev ${this.table} slaves6nd { ${v6.map(ndKey).join(", ")} }\n`;
    }
    if (script !== "") await this.#nft(["-f", "-"], script);
  }

  #nft(args: readonly string[], input?: string): Promise<string> {
    const argv = this.netns === null ? ["nft", ...args] : ["ip", "netns", "exec", this.netns, "nft", ...args];
    return runWithInput(argv, input);
  }
}

/**
 * The NDP target as the 128-bit integer `@th,64,128` yields (nft cannot type a raw payload as
 * ipv6_addr, so the solicitation targets live in their own integer set).
 */
function ndKey(addr: string): string {
  return `0x${parseIpv6(addr).toString(16).padStart(32, "0")}`;
}

/** Runs a command with optional stdin; resolves with stdout, rejects with stderr. */
function runWithInput(argv: readonly string[], input: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` },
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`Cannot run "${argv.join(" ")}": exit ${code}: ${err.trim()}`));
    });
    child.stdin.end(input ?? "");
  });
}
