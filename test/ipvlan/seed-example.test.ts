/**
 * The oracle's seed-example-l2.sh (the IPVLAN HOWTO in mode l2) on the simulated kernel: the
 * reachability matrix, the neighbour tables it leaves, and what tcpdump on ext0 saw, compared
 * with seed-example-l2.out.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type NetNamespace, NUD, neighTableGet } from "../../src/kernel/index.ts";
import { formatIpv4, formatMac } from "../../src/wire/index.ts";
import { howto, ping } from "./topology.ts";

function mac(d: Uint8Array, off: number): string {
  let v = 0;
  for (let i = 0; i < 6; i++) v = v * 256 + d[off + i];
  return formatMac(v);
}

function ip(d: Uint8Array, off: number): string {
  return formatIpv4(((d[off] << 24) | (d[off + 1] << 16) | (d[off + 2] << 8) | d[off + 3]) >>> 0);
}

/** `tcpdump -nn -e -t` for ARP and ICMP echo (ids masked as the script does). */
function tcpdumpLine(d: Uint8Array): string | null {
  const head = `${mac(d, 6)} > ${mac(d, 0)}`;
  const et = (d[12] << 8) | d[13];
  if (et === 0x0806) {
    const op = (d[20] << 8) | d[21];
    const what =
      op === 1 ? `Request who-has ${ip(d, 38)} tell ${ip(d, 28)}` : `Reply ${ip(d, 28)} is-at ${mac(d, 22)}`;
    return `${head}, ethertype ARP (0x0806), length ${d.length}: ${what}, length 28`;
  }
  if (et === 0x0800 && d[23] === 1) {
    const type = d[34] === 8 ? "request" : d[34] === 0 ? "reply" : `type ${d[34]}`;
    const seq = (d[40] << 8) | d[41];
    const len = ((d[16] << 8) | d[17]) - 20;
    return `${head}, ethertype IPv4 (0x0800), length ${d.length}: ${ip(d, 26)} > ${ip(d, 30)}: ICMP echo ${type}, id N, seq ${seq}, length ${len}`;
  }
  return null;
}

/** `ip -4 neigh show` lines with the script's state normalisation, sorted. */
function neigh(net: NetNamespace): string[] {
  const table = neighTableGet(net, 4)!;
  return table
    .entries()
    .filter((n) => n.nudState !== NUD.NONE && n.nudState !== NUD.NOARP)
    .map((n) => {
      const dyn = NUD.REACHABLE | NUD.STALE | NUD.DELAY | NUD.PROBE;
      const state =
        n.nudState & dyn
          ? "<dynamic>"
          : n.nudState & (NUD.INCOMPLETE | NUD.FAILED)
            ? "<unresolved>"
            : "PERMANENT";
      const ll = n.nudState & (NUD.INCOMPLETE | NUD.FAILED) ? "" : ` lladdr ${formatMac(n.lladdr)}`;
      return `${formatIpv4(n.key)} dev ${n.dev.name}${ll} ${state}`;
    })
    .sort();
}

test("seed-example-l2.out: matrix, neighbour tables and the capture on ext0", () => {
  const t = howto("l2");
  const capture: string[] = [];
  t.ext.taps.add({
    dev: t.ext0,
    deliver: (skb) => {
      const line = tcpdumpLine(skb.data);
      if (line) capture.push(line);
    },
  });
  const probes: [string, NetNamespace, string][] = [
    ["ns0 -> ns1", t.ns0, "10.0.0.11"],
    ["ns1 -> ns0", t.ns1, "10.0.0.10"],
    ["ns0 -> router", t.ns0, "10.0.0.1"],
    ["router -> ns0", t.ext, "10.0.0.10"],
    ["root -> ns0", t.root, "10.0.0.10"],
    ["ns0 -> root", t.ns0, "10.0.0.2"],
    ["ns1 -> router", t.ns1, "10.0.0.1"],
    ["router -> ns1", t.ext, "10.0.0.11"],
    ["router -> root", t.ext, "10.0.0.2"],
  ];
  const matrix = probes.map(([label, net, dst]) => `${label} ${ping(t.k, net, dst) ? "OK" : "FAIL"}`);
  assert.deepEqual(matrix, [
    "ns0 -> ns1 OK",
    "ns1 -> ns0 OK",
    "ns0 -> router OK",
    "router -> ns0 OK",
    "root -> ns0 FAIL",
    "ns0 -> root FAIL",
    "ns1 -> router OK",
    "router -> ns1 OK",
    "router -> root OK",
  ]);
  assert.deepEqual(neigh(t.ns0), [
    "10.0.0.1 dev ipvl0 lladdr 02:00:00:00:00:01 <dynamic>",
    "10.0.0.11 dev ipvl0 lladdr 02:00:00:00:00:02 <dynamic>",
    "10.0.0.2 dev ipvl0 <unresolved>",
  ]);
  assert.deepEqual(neigh(t.ns1), [
    "10.0.0.1 dev ipvl1 lladdr 02:00:00:00:00:01 <dynamic>",
    "10.0.0.10 dev ipvl1 lladdr 02:00:00:00:00:02 <dynamic>",
  ]);
  assert.deepEqual(neigh(t.ext), [
    "10.0.0.10 dev ext0 lladdr 02:00:00:00:00:02 <dynamic>",
    "10.0.0.11 dev ext0 lladdr 02:00:00:00:00:02 <dynamic>",
    "10.0.0.2 dev ext0 lladdr 02:00:00:00:00:02 <dynamic>",
  ]);
  assert.deepEqual(neigh(t.root), [
    "10.0.0.1 dev eth0 lladdr 02:00:00:00:00:01 <dynamic>",
    "10.0.0.10 dev eth0 <unresolved>",
  ]);
  // The first seven captured lines do not depend on ARP retry timing; the rest are compared as a set.
  const M = "02:00:00:00:00:02";
  const R = "02:00:00:00:00:01";
  const arpReq = (src: string, who: string, tell: string) =>
    `${src} > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has ${who} tell ${tell}, length 28`;
  const arpRep = (src: string, dst: string, who: string, at: string) =>
    `${src} > ${dst}, ethertype ARP (0x0806), length 42: Reply ${who} is-at ${at}, length 28`;
  const echo = (src: string, dst: string, s: string, d: string, type: string) =>
    `${src} > ${dst}, ethertype IPv4 (0x0800), length 98: ${s} > ${d}: ICMP echo ${type}, id N, seq 1, length 64`;
  assert.deepEqual(capture.slice(0, 7), [
    arpReq(M, "10.0.0.11", "10.0.0.10"),
    arpReq(M, "10.0.0.1", "10.0.0.10"),
    arpRep(R, M, "10.0.0.1", R),
    echo(M, R, "10.0.0.10", "10.0.0.1", "request"),
    echo(R, M, "10.0.0.1", "10.0.0.10", "reply"),
    echo(R, M, "10.0.0.1", "10.0.0.10", "request"),
    echo(M, R, "10.0.0.10", "10.0.0.1", "reply"),
  ]);
  assert.deepEqual(
    [...new Set(capture.slice(7))].sort(),
    [
      arpReq(M, "10.0.0.10", "10.0.0.2"),
      arpReq(M, "10.0.0.2", "10.0.0.10"),
      arpReq(M, "10.0.0.1", "10.0.0.11"),
      arpRep(R, M, "10.0.0.1", R),
      echo(M, R, "10.0.0.11", "10.0.0.1", "request"),
      echo(R, M, "10.0.0.1", "10.0.0.11", "reply"),
      echo(R, M, "10.0.0.1", "10.0.0.11", "request"),
      echo(M, R, "10.0.0.11", "10.0.0.1", "reply"),
      arpReq(R, "10.0.0.2", "10.0.0.1"),
      arpRep(M, R, "10.0.0.2", M),
      echo(R, M, "10.0.0.1", "10.0.0.2", "request"),
      echo(M, R, "10.0.0.2", "10.0.0.1", "reply"),
    ].sort(),
  );
});
