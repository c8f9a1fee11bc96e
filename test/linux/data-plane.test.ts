/**
 * The real data plane end to end, with real namespaces and real traffic: two TAP slaves created
 * in the host namespace and moved into ns0/ns1, switched by the forwarding Worker over the veth
 * master m0, with a router in ns ext. Pings both ways, TCP through iperf3 (which only connects
 * when virtio-net headers are relayed: pitfall 1), and the master-stack isolation (pitfall 2).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MASTER_PORT } from "../../src/linux/index.ts";
import {
  baseTopology,
  HOST,
  type IpvlSetup,
  iperf,
  ping,
  ROUTER,
  realLab,
  SLAVE0,
  SLAVE1,
  startIpvl,
} from "./lab.ts";

test("TAP slaves switched over a veth master: ping, TCP with offloads, isolation", async (t) => {
  let setup: IpvlSetup | undefined;
  const lab = await realLab(t, ["ping", "iperf3", "nft"], async () => {
    await setup?.plane.stop({ destroySlaves: true });
  });
  if (lab === undefined) return;
  const topo = await baseTopology(lab, { hostAddr: true });
  // The host forwards: without isolation it would route the slaves' packets a second time.
  await lab.exec(topo.host, ["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
  setup = await startIpvl(topo);
  const { plane, slaves } = setup;
  const errorsBefore = slaves.map((s) => plane.counters(s.port).txErrors);

  await t.test("slave to slave", async () => {
    const r = await ping(topo, topo.ns0, SLAVE1, ["-c", "3", "-i", "0.2", "-W", "2"]);
    assert.equal(r.received, 3);
    assert.equal(r.duplicates, 0);
  });

  await t.test("slave to router and router to slave", async () => {
    const out = await ping(topo, topo.ns0, ROUTER, ["-c", "3", "-i", "0.2", "-W", "2"]);
    assert.equal(out.received, 3);
    assert.equal(out.duplicates, 0);
    const back = await ping(topo, topo.ext, SLAVE0, ["-c", "3", "-i", "0.2", "-W", "2"]);
    assert.equal(back.received, 3);
    assert.equal(back.duplicates, 0);
  });

  await t.test("the host keeps its own address", async () => {
    const r = await ping(topo, topo.ext, HOST, ["-c", "2", "-i", "0.2", "-W", "2"]);
    assert.equal(r.received, 2);
  });

  await t.test("TCP slave to slave and slave to router (offloads relayed)", async () => {
    const local = await iperf(topo, topo.ns0, topo.ns1, SLAVE1);
    const out = await iperf(topo, topo.ns0, topo.ext, ROUTER);
    t.diagnostic(
      `iperf3 ns0->ns1 ${(local.bitsPerSecond / 1e9).toFixed(2)} Gbit/s, ns0->router ${(out.bitsPerSecond / 1e9).toFixed(2)} Gbit/s`,
    );
    // Without the virtio-net header TCP does not connect at all; with it, GSO frames flow.
    assert.ok(local.bitsPerSecond > 50e6, `ns0->ns1 ${local.bitsPerSecond} bit/s`);
    assert.ok(out.bitsPerSecond > 50e6, `ns0->router ${out.bitsPerSecond} bit/s`);
    // 64 KiB segments crossed whole: far fewer frames than MSS-sized packets would need.
    const c = plane.counters(slaves[0].port);
    assert.ok(c.rxBytes / c.rxFrames > 3000, `average slave frame ${c.rxBytes / c.rxFrames} bytes`);
  });

  await t.test("the master's stack never sees slave traffic (nft ingress), the data plane does", async () => {
    const iso = await plane.isolation!.counters();
    assert.ok(iso.ip4 > 0, "IPv4 to slaves dropped at ingress");
    assert.ok(iso.arp > 0, "ARP for slaves dropped at ingress");
    assert.ok(plane.counters(MASTER_PORT).rxFrames > 0);
    // With ip_forward=1 and no isolation the host would answer with redirects or forward again.
    const nstat = await lab.exec(topo.host, ["nstat", "-az", "IpForwDatagrams", "IcmpOutRedirects"]);
    assert.match(nstat.stdout, /IpForwDatagrams\s+0\s/);
    assert.match(nstat.stdout, /IcmpOutRedirects\s+0\s/);
  });

  await t.test("counters and the stand-in switch report no unexpected drops", async () => {
    const sw = await plane.switchCounters();
    assert.equal(sw.runt, 0);
    // Slaves may count a few EIO: moving a TAP to another namespace takes it down for a moment,
    // and frames flooded to a down TAP fail (as ipvlan drops frames for a slave that is down).
    assert.equal(plane.counters(MASTER_PORT).txErrors, 0);
    assert.deepEqual(
      slaves.map((s) => plane.counters(s.port).txErrors),
      errorsBefore,
      "no TAP write failed once the slaves were up",
    );
    const ms = await plane.masterSocketStats();
    assert.equal(ms.truncated, 0);
  });
});

test("slaves take the master's MTU; a larger slave MTU loses big frames (pitfall 3)", async (t) => {
  let setup: IpvlSetup | undefined;
  const lab = await realLab(t, ["ping", "nft"], async () => {
    await setup?.plane.stop({ destroySlaves: true });
  });
  if (lab === undefined) return;
  const topo = await baseTopology(lab);
  await lab.ip(topo.host, "link", "set", "m0", "mtu", "1400");
  await lab.ip(topo.ext, "link", "set", "r0", "mtu", "1400");
  setup = await startIpvl(topo);
  const { plane } = setup;
  const link = JSON.parse((await lab.ip(topo.ns0, "-j", "link", "show", "tap0")).stdout) as { mtu: number }[];
  assert.equal(link[0].mtu, 1400);
  // 1372 + 8 (ICMP) + 20 (IPv4) = 1400: the largest packet fits both ways.
  const fits = await ping(topo, topo.ns0, ROUTER, [
    "-c",
    "2",
    "-i",
    "0.2",
    "-W",
    "2",
    "-M",
    "do",
    "-s",
    "1372",
  ]);
  assert.equal(fits.received, 2);
  assert.equal(plane.counters(MASTER_PORT).txErrors, 0);

  await lab.ip(topo.ns0, "link", "set", "tap0", "mtu", "1500");
  const big = await ping(topo, topo.ns0, ROUTER, [
    "-c",
    "2",
    "-i",
    "0.2",
    "-W",
    "1",
    "-M",
    "do",
    "-s",
    "1472",
  ]);
  assert.equal(big.received, 0);
  // The master refuses the oversized frames (sendmmsg EMSGSIZE): counted, never thrown.
  assert.ok(
    plane.counters(MASTER_PORT).txErrors >= 2,
    `master tx errors ${plane.counters(MASTER_PORT).txErrors}`,
  );
});
