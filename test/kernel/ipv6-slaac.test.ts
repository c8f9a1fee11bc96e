/**
 * Router discovery and SLAAC: a host solicits after DAD, a router namespace (forwarding on)
 * emits a router advertisement, and the host configures a SLAAC address (EUI-64, dev_id
 * aware), the on-link prefix route, the default route and the router's neighbour entry.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { allocSkb, devQueueXmit, NSEC_PER_SEC, NTF, type NetDevice } from "../../src/kernel/index.ts";
import {
  buildIcmpv6Packet,
  ip6RouteDump,
  ip6RouteGet,
  ipv6DevMcList,
  ndTable,
} from "../../src/kernel/ipv6/index.ts";
import {
  emitEthernet,
  formatIpv6,
  IPV6_ALL_NODES,
  parseIpv6,
  type NdiscOption,
} from "../../src/wire/index.ts";
import { ipv6Lab, MAC1, MAC2 } from "./ipv6-lab.ts";

/** Sends a router advertisement out of dev (what radvd would do). */
function sendRa(
  dev: NetDevice,
  src: bigint,
  opts: { lifetime?: number; valid?: number; preferred?: number; hop?: number } = {},
): void {
  const options: NdiscOption[] = [
    { kind: "source-ll-addr", addr: dev.mac },
    { kind: "mtu", mtu: 1500 },
    {
      kind: "prefix-info",
      prefixLen: 64,
      flags: 0xc0,
      validLifetime: opts.valid ?? 86400,
      preferredLifetime: opts.preferred ?? 14400,
      prefix: parseIpv6("2001:db8:1::"),
    },
  ];
  const pkt = buildIcmpv6Packet(src, IPV6_ALL_NODES, 255, {
    kind: "router-advert",
    hopLimit: opts.hop ?? 64,
    flags: 0,
    routerLifetime: opts.lifetime ?? 1800,
    reachableTime: 0,
    retransTimer: 0,
    options,
  });
  const frame = new Uint8Array(14 + pkt.length);
  emitEthernet({ dst: 0x3333_0000_0001, src: dev.mac, etherType: 0x86dd }, frame);
  frame.set(pkt, 14);
  devQueueXmit(allocSkb(frame, dev, 14));
}

function topo(devId = 0) {
  const lab = ipv6Lab(4);
  const r = lab.ns("r");
  const h = lab.ns("h");
  r.sysctl.set("net.ipv6.conf.all.forwarding", "1");
  const [r0, h0] = lab.veth(r, "r0", MAC1, h, "h0", MAC2);
  h0.devId = devId;
  const cap = lab.capture(r0);
  lab.up(r0, h0);
  lab.run(3000);
  return { lab, r, h, r0, h0, cap };
}

test("a host sends router solicitations after DAD; a router does not", () => {
  const { cap, r } = topo();
  const rs = cap.filter((c) => c.frame.icmpv6?.kind === "router-solicit");
  assert.deepEqual(
    rs.map((c) => `${c.dir} ${formatIpv6(c.frame.ipv6!.src)} > ${formatIpv6(c.frame.ipv6!.dst)}`),
    ["in fe80::ff:fe00:2 > ff02::2"],
  );
  const opt = rs[0].frame.icmpv6?.kind === "router-solicit" ? rs[0].frame.icmpv6.options : [];
  assert.deepEqual(opt, [{ kind: "source-ll-addr", addr: MAC2 }]);
  assert.ok(
    ipv6DevMcList(r.dev("r0")!).some((m) => formatIpv6(m.addr) === "ff02::2"),
    "routers join ff02::2",
  );
});

test("SLAAC from a router advertisement: address, prefix route, default route, router neighbour", () => {
  const { lab, h, h0, r0 } = topo();
  sendRa(r0, parseIpv6("fe80::ff:fe00:1"));
  lab.run(10);
  assert.deepEqual(lab.addrs(h0), [
    "2001:db8:1::ff:fe00:2/64 tentative dynamic mngtmpaddr",
    "fe80::ff:fe00:2/64",
  ]);
  lab.run(3000);
  assert.deepEqual(lab.addrs(h0), ["2001:db8:1::ff:fe00:2/64 dynamic mngtmpaddr", "fe80::ff:fe00:2/64"]);
  const routes = ip6RouteDump(h).filter((x) => x.table === 254);
  assert.deepEqual(
    routes.map(
      (x) =>
        `${x.dstLen ? `${formatIpv6(x.dst)}/${x.dstLen}` : "default"}${x.gateway ? ` via ${formatIpv6(x.gateway)}` : ""} proto ${x.protocol} metric ${x.metric} expires ${x.expires === null ? "-" : (x.expires - lab.k.now) / NSEC_PER_SEC}${x.metrics.hoplimit ? ` hoplimit ${x.metrics.hoplimit}` : ""}`,
    ),
    [
      "2001:db8:1::/64 proto 2 metric 256 expires 86396",
      "fe80::/64 proto 2 metric 256 expires -",
      "default via fe80::ff:fe00:1 proto 9 metric 1024 expires 1796 hoplimit 64",
    ],
  );
  const n = ndTable(h).lookup(h0, parseIpv6("fe80::ff:fe00:1"));
  assert.ok(n && n.flags & NTF.ROUTER);
  assert.equal(n.lladdr, MAC1);
  // Destinations beyond the link now go through the router.
  const out = ip6RouteGet(h, { daddr: parseIpv6("2003::1") });
  assert.equal(formatIpv6(out.nexthop), "fe80::ff:fe00:1");
  assert.equal(formatIpv6(out.saddr), "2001:db8:1::ff:fe00:2");
});

test("SLAAC interface ids follow dev_id like the link-local (ipvlan slaves)", () => {
  const { lab, h0, r0 } = topo(1);
  assert.deepEqual(lab.addrs(h0), ["fe80::200:0:100:2/64"]);
  sendRa(r0, parseIpv6("fe80::ff:fe00:1"));
  lab.run(3000);
  assert.deepEqual(lab.addrs(h0), ["2001:db8:1:0:200:0:100:2/64 dynamic mngtmpaddr", "fe80::200:0:100:2/64"]);
});

test("prefix lifetimes: deprecated, then removed; router lifetime 0 removes the default route", () => {
  const { lab, h, h0, r0 } = topo();
  sendRa(r0, parseIpv6("fe80::ff:fe00:1"), { valid: 100, preferred: 50 });
  lab.run(60_000);
  assert.deepEqual(lab.addrs(h0), [
    "2001:db8:1::ff:fe00:2/64 deprecated dynamic mngtmpaddr",
    "fe80::ff:fe00:2/64",
  ]);
  lab.run(50_000);
  assert.deepEqual(lab.addrs(h0), ["fe80::ff:fe00:2/64"]);
  assert.ok(!ip6RouteDump(h).some((x) => formatIpv6(x.dst) === "2001:db8:1::"));
  sendRa(r0, parseIpv6("fe80::ff:fe00:1"), { lifetime: 0 });
  lab.run(10);
  assert.ok(!ip6RouteDump(h).some((x) => x.dstLen === 0));
});
