/**
 * The oracle's l3s-conntrack.sh on the simulated kernel: does slave traffic traverse netfilter
 * and conntrack of the master's namespace? Counting hooks stand for the script's nft chains
 * (same hooks and priorities, ICMP only), conntrack is enabled in the master's namespace, and
 * the answers are compared with l3s-conntrack.out for L3 and L3S.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  IP_CT,
  IPS,
  NF,
  NF_INET,
  type NetNamespace,
  NFPROTO,
  type NfHookNum,
  netfilterInit,
  nfCtEntries,
  nfCtNetnsGet,
  nfRegisterHook,
} from "../../src/kernel/index.ts";
import { formatIpv4, parseIpv4 } from "../../src/wire/index.ts";
import { howto, MAC_M, ping, staticNeigh } from "./topology.ts";

type Counters = Record<"pre-new" | "pre-all" | "input" | "forward" | "output" | "post", number>;

/** table inet count { ... } of the script: ICMP counters per hook in `net`. */
function countingChains(net: NetNamespace): { counters: Counters; dropInput: (ip: string) => void } {
  const counters: Counters = { "pre-new": 0, "pre-all": 0, input: 0, forward: 0, output: 0, post: 0 };
  let dropDaddr: number | null = null;
  const icmp = (d: Uint8Array, off: number) => d[off + 9] === 1;
  const chain = (
    hook: NfHookNum,
    priority: number,
    fn: (d: Uint8Array, off: number, ctinfo: number) => number,
  ) =>
    nfRegisterHook(net, {
      pf: NFPROTO.IPV4,
      hook,
      priority,
      owner: "test count",
      fn: (skb) => (fn(skb.data, skb.network, skb.ct ? skb.ctinfo : -1) === NF.DROP ? NF.DROP : NF.ACCEPT),
    });
  chain(NF_INET.PRE_ROUTING, -150, (d, off, ctinfo) => {
    if (icmp(d, off) && ctinfo === IP_CT.NEW) counters["pre-new"]++;
    if (icmp(d, off)) counters["pre-all"]++;
    return NF.ACCEPT;
  });
  chain(NF_INET.LOCAL_IN, 0, (d, off) => {
    if (!icmp(d, off)) return NF.ACCEPT;
    counters.input++;
    const daddr = ((d[off + 16] << 24) | (d[off + 17] << 16) | (d[off + 18] << 8) | d[off + 19]) >>> 0;
    return daddr === dropDaddr ? NF.DROP : NF.ACCEPT;
  });
  for (const [hook, name] of [
    [NF_INET.FORWARD, "forward"],
    [NF_INET.LOCAL_OUT, "output"],
    [NF_INET.POST_ROUTING, "post"],
  ] as const) {
    chain(hook, 0, (d, off) => {
      if (icmp(d, off)) counters[name]++;
      return NF.ACCEPT;
    });
  }
  return {
    counters,
    dropInput: (ip) => {
      dropDaddr = parseIpv4(ip);
    },
  };
}

function show(c: Counters): string {
  return Object.entries(c)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}

/** conntrack -L, reduced to "src dst [UNREPLIED]" of the original direction. */
function ctList(net: NetNamespace): string[] {
  return nfCtEntries(net)
    .map((ct) => {
      const o = ct.tuple[0];
      const src = formatIpv4(Number(o.src));
      const dst = formatIpv4(Number(o.dst));
      return `src=${src} dst=${dst} type=${o.type}${ct.status & IPS.SEEN_REPLY ? "" : " [UNREPLIED]"}`;
    })
    .sort();
}

const EXPECTED = {
  l3: {
    counters: [
      "pre-new=0 pre-all=0 input=0 forward=0 output=0 post=0",
      "pre-new=0 pre-all=0 input=0 forward=0 output=1 post=1",
      "pre-new=0 pre-all=0 input=0 forward=0 output=2 post=2",
      "pre-new=0 pre-all=0 input=0 forward=0 output=4 post=4",
    ],
    conntrack: ["src=10.0.0.10 dst=10.0.0.1 type=8 [UNREPLIED]"],
    afterDrop: [true, true, true],
  },
  l3s: {
    counters: [
      "pre-new=0 pre-all=0 input=0 forward=0 output=0 post=0",
      "pre-new=0 pre-all=1 input=1 forward=0 output=1 post=1",
      "pre-new=1 pre-all=2 input=2 forward=0 output=2 post=2",
      "pre-new=3 pre-all=4 input=4 forward=0 output=3 post=3",
    ],
    conntrack: ["src=10.0.0.1 dst=10.0.0.10 type=8", "src=10.0.0.10 dst=10.0.0.1 type=8"],
    afterDrop: [false, true, true],
  },
} as const;

for (const mode of ["l3", "l3s"] as const) {
  test(`l3s-conntrack.out: mode ${mode}`, () => {
    const t = howto(mode, netfilterInit);
    staticNeigh(t, "10.0.0.10", MAC_M);
    staticNeigh(t, "10.0.0.11", MAC_M);
    nfCtNetnsGet(t.root, NFPROTO.IPV4);
    const { counters, dropInput } = countingChains(t.root);
    const e = EXPECTED[mode];
    assert.equal(ping(t.k, t.ns0, "10.0.0.11"), true, "ns0 -> ns1");
    assert.equal(show(counters), e.counters[0]);
    assert.equal(ping(t.k, t.ns0, "10.0.0.1"), true, "ns0 -> router");
    assert.equal(show(counters), e.counters[1]);
    assert.equal(ping(t.k, t.ext, "10.0.0.10"), true, "router -> ns0");
    assert.equal(show(counters), e.counters[2]);
    assert.deepEqual(ctList(t.root), e.conntrack);
    assert.deepEqual(ctList(t.ns0), [], "no conntrack in ns0 (no ruleset there)");
    dropInput("10.0.0.10");
    assert.deepEqual(
      [ping(t.k, t.ext, "10.0.0.10"), ping(t.k, t.ext, "10.0.0.11"), ping(t.k, t.ns1, "10.0.0.10")],
      e.afterDrop,
      "router -> ns0, router -> ns1, ns1 -> ns0 with a master INPUT drop for 10.0.0.10",
    );
    assert.equal(show(counters), e.counters[3]);
  });
}

test("L3S: inbound counts rx on the slave only when it reaches LOCAL_IN", () => {
  const t = howto("l3s");
  staticNeigh(t, "10.0.0.10", MAC_M);
  const before = t.ipvl0.stats.rxPackets;
  assert.equal(ping(t.k, t.ext, "10.0.0.10"), true);
  assert.equal(t.ipvl0.stats.rxPackets, before + 1);
  assert.equal(t.ipvl0.stats.txPackets > 0, true);
});
