/**
 * Master-stack isolation (pitfall 2), measured: without it the master's stack forwards the
 * slaves' traffic a second time and sends redirects; the nftables netdev ingress chain stops
 * that, and because AF_PACKET taps run before ingress the data plane still receives everything.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { IPVLAN_SWITCH_MODULE } from "../../src/cli/real/index.ts";
import { DataPlane, MasterIsolation, PacketSocket, type Slave } from "../../src/linux/index.ts";
import { readIpv4 } from "../../src/wire/index.ts";
import { baseTopology, placeSlave, ping, ROUTER, realLab, SLAVE0 } from "./lab.ts";

const SLAVE0_V6 = "fd00::10";

test("AF_PACKET on the master sees the frames the ingress chain hides from the stack", async (t) => {
  let socket: PacketSocket | undefined;
  const lab = await realLab(t, ["ping", "nft"], async () => socket?.close());
  if (lab === undefined) return;
  const topo = await baseTopology(lab);
  await lab.ip(topo.ext, "addr", "add", "fd00::1/64", "dev", "r0", "nodad");
  const iso = await MasterIsolation.create("m0", topo.host, [SLAVE0, SLAVE0_V6]);
  socket = PacketSocket.open({ ifname: "m0", netns: topo.host });
  const mac = (await lab.ip(topo.host, "-j", "link", "show", "m0")).stdout;
  const masterMac = (JSON.parse(mac) as { address: string }[])[0].address;

  // ARP requests for the slave (broadcast), then IPv4 to it once the router has a neighbour entry,
  // then an NDP solicitation for its IPv6 address.
  await ping(topo, topo.ext, SLAVE0, ["-c", "1", "-W", "1"]);
  await lab.ip(topo.ext, "neigh", "replace", SLAVE0, "lladdr", masterMac, "dev", "r0");
  await ping(topo, topo.ext, SLAVE0, ["-c", "2", "-i", "0.2", "-W", "1"]);
  await ping(topo, topo.ext, SLAVE0_V6, ["-c", "1", "-W", "1"]);

  // Counters first: whatever the chain counted had already passed the taps, so it is in the ring.
  const dropped = await iso.counters();
  let arp = 0;
  let ip4 = 0;
  let ns = 0;
  socket.receive((pkt) => {
    const f = pkt.subarray(10);
    const type = (f[12] << 8) | f[13];
    if (type === 0x0806 && readIpv4(f, 14 + 24) === 0x0a00000a) arp++;
    if (type === 0x0800 && readIpv4(f, 14 + 16) === 0x0a00000a) ip4++;
    if (type === 0x86dd && f[14 + 6] === 58 && f[14 + 40] === 135) ns++;
  });
  t.diagnostic(`socket saw arp=${arp} ip4=${ip4} ns=${ns}; nft dropped ${JSON.stringify(dropped)}`);
  assert.ok(dropped.arp >= 1 && arp >= dropped.arp, "every ARP request the chain dropped reached the socket");
  assert.ok(dropped.ip4 >= 2 && ip4 >= dropped.ip4, "every IPv4 packet the chain dropped reached the socket");
  assert.ok(
    dropped.nd >= 1 && ns >= dropped.nd,
    "every NDP solicitation the chain dropped reached the socket",
  );

  // The master's own stack saw none of it: no neighbour entry learnt, nothing answered.
  const neigh = (await lab.ip(topo.host, "neigh", "show", "dev", "m0")).stdout;
  assert.doesNotMatch(neigh, new RegExp(ROUTER.replaceAll(".", "\\.")));
  // A restarted daemon adopts the table as it is, then syncs it to its addresses.
  const adopted = await MasterIsolation.open("m0", topo.host);
  assert.deepEqual((await adopted.addresses()).sort(), [SLAVE0, SLAVE0_V6].sort());
  await adopted.sync(["10.0.0.20"]);
  assert.deepEqual(await iso.addresses(), ["10.0.0.20"]);
  await iso.destroy();
  const tables = (await lab.exec(topo.host, ["nft", "list", "tables"])).stdout;
  assert.doesNotMatch(tables, /ipvl_m0/);
});

test("without isolation a forwarding master routes slave traffic again (pitfall 2)", async (t) => {
  let plane: DataPlane | undefined;
  const lab = await realLab(t, ["ping", "nft", "nstat"], async () => {
    await plane?.stop({ destroySlaves: true });
  });
  if (lab === undefined) return;
  const topo = await baseTopology(lab, { hostAddr: true });
  await lab.exec(topo.host, ["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
  plane = await DataPlane.start({
    master: "m0",
    netns: topo.host,
    isolation: false,
    switchModule: IPVLAN_SWITCH_MODULE,
  });
  const s0: Slave = await plane.addSlave({ name: "tap0", netns: topo.host });
  await placeSlave(topo, "tap0", topo.ns0, SLAVE0);
  await plane.addAddress(s0.port, SLAVE0);

  const forwarded = async () => {
    const out = (await lab.exec(topo.host, ["nstat", "-az", "IpForwDatagrams", "IcmpOutRedirects"])).stdout;
    const n = (name: string) => Number(new RegExp(`${name}\\s+(\\d+)`).exec(out)?.[1] ?? "0");
    return { fwd: n("IpForwDatagrams"), redirects: n("IcmpOutRedirects") };
  };
  await ping(topo, topo.ext, SLAVE0, ["-c", "3", "-i", "0.2", "-W", "1"]);
  const without = await forwarded();
  t.diagnostic(`without isolation: ${JSON.stringify(without)}`);
  assert.ok(without.fwd > 0, "the host forwarded packets meant for the slave");
  assert.ok(without.redirects > 0, "and sent ICMP redirects");

  const iso = await MasterIsolation.create("m0", topo.host, [SLAVE0]);
  const r = await ping(topo, topo.ext, SLAVE0, ["-c", "3", "-i", "0.2", "-W", "1"]);
  assert.equal(r.received, 3);
  const withIso = await forwarded();
  assert.deepEqual(withIso, without, "nothing more forwarded once the chain is in place");
  await iso.destroy();
});
