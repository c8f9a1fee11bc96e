/**
 * ipvlan with the IPv4 stack: the broadcast rows of bcast-mcast.out and the reference's TX/RX
 * statements that need routing, ARP and netfilter (54–65, 45–46, 66, 79–80, 87–88).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  devChangeNetNamespace,
  devClose,
  devOpen,
  fibRouteAdd,
  fibRouteDel,
  inetAddrAdd,
  NF,
  NF_INET,
  type NetDevice,
  type NetNamespace,
  NFPROTO,
  NSEC_PER_SEC,
  NUD,
  neighAdd,
  neighTableGet,
  nfRegisterHook,
  pingSocket,
} from "../../src/kernel/index.ts";
import { ipvlanStartXmit } from "../../src/ipvlan/index.ts";
import { txSkb, udp4Frame } from "../../src/ipvlan/testing.ts";
import { formatIpv4, formatMac, parseIpv4 } from "../../src/wire/index.ts";
import { howto, MAC_M, ping, staticNeigh } from "./topology.ts";

/** `ping -b -c2 -i0.2 -W1 10.0.0.255` from a namespace: the sorted distinct responders. */
function pingBroadcast(t: ReturnType<typeof howto>, net: NetNamespace): string[] {
  for (const n of [t.root, t.ext, t.ns0, t.ns1]) n.sysctl.set("net.ipv4.icmp_echo_ignore_broadcasts", "0");
  const sock = pingSocket(net);
  sock.broadcast = true;
  const from = new Set<string>();
  sock.onReply = (r) => from.add(formatIpv4(r.from));
  sock.send(parseIpv4("10.0.0.255"), 1, new Uint8Array(56));
  t.k.loop.runUntil(t.k.now + NSEC_PER_SEC / 5n);
  sock.send(parseIpv4("10.0.0.255"), 2, new Uint8Array(56));
  t.k.loop.runUntil(t.k.now + NSEC_PER_SEC);
  sock.close();
  return [...from].sort();
}

/** bcast-mcast.out, IPv4 broadcast responders from ns0, the router and root. */
const BCAST: Record<string, readonly (readonly string[])[]> = {
  l2: [
    ["10.0.0.1", "10.0.0.10", "10.0.0.11"],
    ["10.0.0.1", "10.0.0.10", "10.0.0.11", "10.0.0.2"],
    ["10.0.0.1", "10.0.0.2"],
  ],
  "l2 private": [
    ["10.0.0.1", "10.0.0.10"],
    ["10.0.0.1", "10.0.0.10", "10.0.0.11", "10.0.0.2"],
    ["10.0.0.1", "10.0.0.2"],
  ],
  "l2 vepa": [
    ["10.0.0.1", "10.0.0.10"],
    ["10.0.0.1", "10.0.0.10", "10.0.0.11", "10.0.0.2"],
    ["10.0.0.1", "10.0.0.2"],
  ],
  l3: [["10.0.0.10"], ["10.0.0.1", "10.0.0.2"], ["10.0.0.1", "10.0.0.2"]],
  "l3 private": [["10.0.0.10"], ["10.0.0.1", "10.0.0.2"], ["10.0.0.1", "10.0.0.2"]],
  l3s: [["10.0.0.10"], ["10.0.0.1", "10.0.0.2"], ["10.0.0.1", "10.0.0.2"]],
};

for (const [mode, expected] of Object.entries(BCAST)) {
  test(`bcast-mcast.out: IPv4 broadcast responders in mode ${mode}`, () => {
    const t = howto(mode);
    const wire: string[] = [];
    t.ext.taps.add({
      dev: t.ext0,
      deliver: (skb, dir) => {
        if (dir === "in" && skb.data[23] === 1)
          wire.push(`${formatMac(readMac(skb.data, 6))} > ${formatMac(readMac(skb.data, 0))}`);
      },
    });
    assert.deepEqual(pingBroadcast(t, t.ns0), expected[0], "from ns0");
    if (mode.startsWith("l2")) {
      // statement 51: the broadcast leaves on eth0 with eth0's MAC (seen from ext0).
      assert.equal(wire[0], "02:00:00:00:00:02 > ff:ff:ff:ff:ff:ff");
    } else {
      assert.deepEqual(wire, [], "statement 55: nothing on the wire in l3");
      assert.equal(t.ipvl0.stats.txDropped > 0, true);
    }
    assert.deepEqual(pingBroadcast(t, t.ext), expected[1], "from the router");
    assert.deepEqual(pingBroadcast(t, t.root), expected[2], "from root");
  });
}

function readMac(d: Uint8Array, off: number): number {
  let v = 0;
  for (let i = 0; i < 6; i++) v = v * 256 + d[off + i];
  return v;
}

test("statement 54: in l3 a slave's ping to the master's IP reaches the master via lo, the reply is lost", () => {
  const t = howto("l3");
  let onLo = 0;
  nfRegisterHook(t.root, {
    pf: NFPROTO.IPV4,
    hook: NF_INET.LOCAL_IN,
    priority: 0,
    owner: "test",
    fn: (skb, st) => {
      if (st.in === t.root.loopback && skb.data[skb.network + 9] === 1) onLo++;
      return NF.ACCEPT;
    },
  });
  assert.equal(ping(t.k, t.ns0, "10.0.0.2"), false);
  assert.equal(onLo, 1);
  // The master answered by ARPing for 10.0.0.10 on eth0 (statement 56's mechanism).
  const n = neighTableGet(t.root, 4)!.lookup(t.eth0, parseIpv4("10.0.0.10"));
  assert.ok(n, "the master has a neighbour entry for the slave address");
});

test("statements 56, 65: in l3 the master resolves the router itself; with no route at all the master ARPs on eth0", () => {
  const t = howto("l3");
  staticNeigh(t, "10.0.0.10", MAC_M);
  assert.equal(ping(t.k, t.ns0, "10.0.0.1"), true);
  assert.ok(neighTableGet(t.root, 4)!.lookup(t.eth0, parseIpv4("10.0.0.1"))?.ha, "ARP done by the master");
  assert.equal(neighTableGet(t.ns0, 4)!.lookup(t.ipvl0, parseIpv4("10.0.0.1"))?.ha ?? MAC_M, MAC_M);
  // No route for 192.0.2.7 in the master namespace: assumed on-link on the master (oif rule).
  fibRouteDel(t.root, { dst: parseIpv4("10.0.0.0"), dstLen: 24, table: 254 });
  const arps: string[] = [];
  t.ext.taps.add({
    dev: t.ext0,
    deliver: (skb) => {
      if (skb.data[12] === 0x08 && skb.data[13] === 0x06) arps.push(formatIpv4(readU32(skb.data, 38)));
    },
  });
  fibRouteAdd(t.ns0, { dst: parseIpv4("192.0.2.0"), dstLen: 24, dev: t.ipvl0 });
  ping(t.k, t.ns0, "192.0.2.7");
  assert.ok(arps.includes("192.0.2.7"), `ARP who-has 192.0.2.7 on the wire (saw ${arps.join(",")})`);
});

function readU32(d: Uint8Array, o: number): number {
  return ((d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3]) >>> 0;
}

test("statement 57: in l3 a master-netns OUTPUT drop drops slave traffic: slave tx_dropped, no visible tx_errors on a veth master", () => {
  const t = howto("l3");
  staticNeigh(t, "10.0.0.10", MAC_M);
  nfRegisterHook(t.root, {
    pf: NFPROTO.IPV4,
    hook: NF_INET.LOCAL_OUT,
    priority: 0,
    owner: "test",
    fn: () => NF.DROP,
  });
  const before = t.ipvl0.stats.txDropped;
  assert.equal(ping(t.k, t.ns0, "10.0.0.1"), false);
  assert.equal(t.ipvl0.stats.txDropped, before + 1);
  // ipvlan bumps the master's dev->stats.tx_errors, but a veth master does not report dev->stats
  // (the real 6.1 driver: test/fixtures/oracle-extra/counters.out shows no eth0 tx_errors).
  assert.equal(t.eth0.stats.txErrors, 0);
  assert.equal(t.ipvl0.drops.get("IPVLAN_OUTPUT_FAIL"), 1);
});

test("statement 88: an l3 route failure counts tx_dropped on the slave, not tx_errors", () => {
  const t = howto("l3");
  // With oif = master a missing route means "on-link"; a master that is down is ENETUNREACH.
  devClose(t.eth0);
  assert.equal(ping(t.k, t.ns0, "10.0.0.1"), false);
  assert.equal(t.ipvl0.stats.txDropped, 1);
  assert.equal(t.ipvl0.stats.txErrors, 0);
  // ipvlan bumps the master's dev->stats.tx_errors, but a veth master does not report dev->stats
  // (the real 6.1 driver: test/fixtures/oracle-extra/counters.out shows no eth0 tx_errors).
  assert.equal(t.eth0.stats.txErrors, 0);
  assert.deepEqual(Object.fromEntries(t.ipvl0.drops), { IPVLAN_ROUTE_FAIL: 1 });
});

test("statement 59: a mark set in the slave's netns is cleared before routing in the master's netns", () => {
  const t = howto("l3");
  staticNeigh(t, "10.0.0.10", MAC_M);
  const marks: number[] = [];
  nfRegisterHook(t.root, {
    pf: NFPROTO.IPV4,
    hook: NF_INET.LOCAL_OUT,
    priority: 0,
    owner: "test",
    fn: (skb) => {
      marks.push(skb.mark);
      return NF.ACCEPT;
    },
  });
  const sock = pingSocket(t.ns0);
  sock.mark = 7;
  sock.send(parseIpv4("10.0.0.1"), 1, new Uint8Array(8));
  t.k.loop.runUntil(t.k.now + NSEC_PER_SEC);
  assert.deepEqual(marks, [0]);
});

test("statement 45: moving a slave to another namespace frees its address for a sibling", () => {
  const t = howto("l2");
  assert.throws(() => inetAddrAdd(t.ipvl1, { local: parseIpv4("10.0.0.10"), prefixLen: 24 }), {
    code: "EADDRINUSE",
    extack: "Address already assigned to an ipvlan device",
  });
  const ns2 = t.k.createNamespace("ns2");
  devChangeNetNamespace(t.ipvl0, ns2);
  assert.deepEqual(t.ipvl0.addrs, []);
  inetAddrAdd(t.ipvl1, { local: parseIpv4("10.0.0.10"), prefixLen: 24 });
  assert.equal(t.ipvl1.addrs.length, 2);
});

test("statements 46, 66: unicast for a down slave goes to the master's PREROUTING; an up slave's goes to its own", () => {
  for (const mode of ["l2", "l3"]) {
    const t = howto(mode);
    const pre = new Map<NetNamespace, number>();
    for (const net of [t.root, t.ns0]) {
      nfRegisterHook(net, {
        pf: NFPROTO.IPV4,
        hook: NF_INET.PRE_ROUTING,
        priority: 0,
        owner: "test",
        fn: (skb) => {
          if (skb.data[skb.network + 9] === 1) pre.set(net, (pre.get(net) ?? 0) + 1);
          return NF.ACCEPT;
        },
      });
    }
    staticNeigh(t, "10.0.0.10", MAC_M);
    ping(t.k, t.ext, "10.0.0.10");
    assert.deepEqual(
      [pre.get(t.ns0), pre.get(t.root)],
      [1, undefined],
      `${mode}: slave netns, not the master's`,
    );
    devClose(t.ipvl0);
    ping(t.k, t.ext, "10.0.0.10");
    assert.deepEqual([pre.get(t.ns0), pre.get(t.root)], [1, 1], `${mode}: down slave → master`);
  }
});

test("statements 79, 80: in l3s the master's INPUT sees slave traffic, the slave's INPUT does not", () => {
  const t = howto("l3s");
  staticNeigh(t, "10.0.0.10", MAC_M);
  nfRegisterHook(t.ns0, {
    pf: NFPROTO.IPV4,
    hook: NF_INET.LOCAL_IN,
    priority: 0,
    owner: "test",
    fn: () => NF.DROP,
  });
  assert.equal(
    ping(t.k, t.ext, "10.0.0.10"),
    true,
    "a DROP in the slave's INPUT does not block inbound traffic",
  );
});

/** `ip -n NS neigh replace IP lladdr MAC dev DEV nud permanent`. */
function neighOn(net: NetNamespace, dev: NetDevice, ip: string, mac: number): void {
  neighAdd(neighTableGet(net, 4)!, {
    dev,
    key: parseIpv4(ip),
    lladdr: mac,
    state: NUD.PERMANENT,
    nl: { create: true, replace: true },
  });
}

/** ICMP packets per namespace seen at LOCAL_IN. */
function countInput(net: NetNamespace): { n: number } {
  const c = { n: 0 };
  nfRegisterHook(net, {
    pf: NFPROTO.IPV4,
    hook: NF_INET.LOCAL_IN,
    priority: 0,
    owner: "test",
    fn: (skb) => {
      if (skb.data[skb.network + 9] === 1) c.n++;
      return NF.ACCEPT;
    },
  });
  return c;
}

test("statement 43: a slave may take the master's IP; inbound traffic to it then goes to the slave", () => {
  for (const mode of ["l2", "l3"]) {
    const t = howto(mode);
    const master = countInput(t.root);
    const slave = countInput(t.ns1);
    staticNeigh(t, "10.0.0.2", MAC_M);
    assert.equal(ping(t.k, t.ext, "10.0.0.2"), true);
    assert.deepEqual([master.n, slave.n], [1, 0]);
    inetAddrAdd(t.ipvl1, { local: parseIpv4("10.0.0.2"), prefixLen: 24 });
    ping(t.k, t.ext, "10.0.0.2");
    assert.deepEqual([master.n, slave.n], [1, 1], `${mode}: stolen by the slave`);
  }
});

test("statement 53: in l2 a slave reaches the master's stack only through a static neighbour entry", () => {
  const t = howto("l2");
  const master = countInput(t.root);
  assert.equal(ping(t.k, t.ns0, "10.0.0.2"), false);
  assert.equal(master.n, 0, "the slave's ARP never reaches the master's stack");
  neighOn(t.ns0, t.ipvl0, "10.0.0.2", MAC_M);
  // The request queued while ARP was pending leaves now that the entry exists.
  t.k.loop.runUntil(t.k.now + NSEC_PER_SEC / 10n);
  const before = master.n;
  assert.equal(ping(t.k, t.ns0, "10.0.0.2"), false, "the reply leaves on the wire and is lost");
  assert.equal(master.n, before + 1);
});

test("statement 64: in l3 a slave can send with a source address it does not own", () => {
  const t = howto("l3");
  const seen: string[] = [];
  t.ext.taps.add({
    dev: t.ext0,
    deliver: (skb) => {
      if (skb.data[12] === 0x08 && skb.data[13] === 0) seen.push(formatIpv4(readU32(skb.data, 26)));
    },
  });
  // As from a raw/packet socket: nothing checks the source belongs to the slave.
  const f = udp4Frame({
    dstMac: MAC_M,
    srcMac: MAC_M,
    src: parseIpv4("10.0.0.99"),
    dst: parseIpv4("10.0.0.1"),
  });
  assert.equal(ipvlanStartXmit(txSkb(f, t.ipvl0), t.ipvl0), 0);
  t.k.loop.runUntil(t.k.now + NSEC_PER_SEC);
  assert.ok(seen.includes("10.0.0.99"), `spoofed source on the wire (saw ${seen.join(",")})`);
});

test("statement 83: in l3s a socket bound to the slave receives its replies", () => {
  const t = howto("l3s");
  staticNeigh(t, "10.0.0.10", MAC_M);
  const sock = pingSocket(t.ns0);
  sock.bindDev = t.ipvl0;
  let got = 0;
  sock.onReply = () => got++;
  sock.send(parseIpv4("10.0.0.1"), 1, new Uint8Array(8));
  t.k.loop.runUntil(t.k.now + NSEC_PER_SEC);
  assert.equal(got, 1);
});

test("statement 87: in l3 traffic for a down sibling is routed out through the master", () => {
  const t = howto("l3");
  devClose(t.ipvl1);
  const arps: string[] = [];
  t.ext.taps.add({
    dev: t.ext0,
    deliver: (skb) => {
      if (skb.data[12] === 0x08 && skb.data[13] === 0x06) arps.push(formatIpv4(readU32(skb.data, 38)));
    },
  });
  assert.equal(ping(t.k, t.ns0, "10.0.0.11"), false);
  assert.ok(arps.includes("10.0.0.11"), "the master ARPs for the sibling's address on the wire");
});

test("errors.out §5: a slave MTU above the master's loses big frames at the veth peer, small ones pass", () => {
  const t = howto("l2");
  t.ipvl0.mtu = 9000;
  const sock = pingSocket(t.ns0);
  let replies = 0;
  sock.onReply = () => replies++;
  sock.pmtudisc = "do";
  sock.send(parseIpv4("10.0.0.1"), 1, new Uint8Array(1400));
  t.k.loop.runUntil(t.k.now + NSEC_PER_SEC);
  assert.equal(replies, 1, "-s 1400 -M do: reply");
  sock.send(parseIpv4("10.0.0.1"), 2, new Uint8Array(3000));
  sock.pmtudisc = "dont";
  sock.send(parseIpv4("10.0.0.1"), 3, new Uint8Array(3000));
  t.k.loop.runUntil(t.k.now + NSEC_PER_SEC);
  assert.equal(replies, 1, "-s 3000: no reply");
  assert.equal(t.eth0.stats.txDropped, t.ext0.stats.rxDropped);
  assert.equal(t.eth0.stats.txDropped, 2);
});

test("statement 32: slaves keep working after their master moves to another namespace", () => {
  const t = howto("l2");
  assert.equal(ping(t.k, t.ns0, "10.0.0.1"), true);
  const host = t.k.createNamespace("host");
  devChangeNetNamespace(t.eth0, host);
  devOpen(t.eth0);
  t.k.loop.runUntil(t.k.now + NSEC_PER_SEC);
  assert.equal(t.ipvl0.lowerDevice(), t.eth0);
  assert.equal(ping(t.k, t.ns0, "10.0.0.1"), true);
  assert.equal(ping(t.k, t.ns1, "10.0.0.10"), true);
});
