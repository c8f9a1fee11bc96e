/**
 * The master's AF_PACKET socket on a real veth: every receive path (TPACKET_V2 ring, TPACKET_V3
 * ring, recvmmsg) gets the router's answer to a frame the socket sent; PACKET_IGNORE_OUTGOING
 * hides the host's own transmissions; and PACKET_QDISC_BYPASS hides the socket's frames from
 * tcpdump on the master (pitfall 6), which is why it is off by default.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Epoll, PACKET_OUTGOING, PacketSocket, type RxMode } from "../../src/linux/index.ts";
import { parseMac, readIpv4, writeIpv4, writeMac } from "../../src/wire/index.ts";
import { baseTopology, ROUTER, realLab } from "./lab.ts";

/** A virtio-net header (no offload) + broadcast ARP "who has `target` tell `sender`". */
function arpRequest(srcMac: number, sender: string, target: string): Uint8Array {
  const b = new Uint8Array(10 + 60);
  const f = b.subarray(10);
  f.fill(0xff, 0, 6);
  writeMac(f, 6, srcMac);
  f.set([0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1], 12);
  writeMac(f, 22, srcMac);
  writeIpv4(f, 28, ipv4(sender));
  writeIpv4(f, 38, ipv4(target));
  return b;
}

function ipv4(text: string): number {
  return text.split(".").reduce((a, o) => a * 256 + Number(o), 0);
}

/** Receives until `want` returns true for a frame or `ms` pass. */
function receiveUntil(s: PacketSocket, want: (f: Uint8Array, info: number) => boolean, ms: number): boolean {
  const ep = new Epoll(1);
  try {
    ep.add(s.fd, 1);
    const deadline = Date.now() + ms;
    let found = false;
    while (!found && Date.now() < deadline) {
      ep.wait(20);
      s.receive((pkt, info) => {
        if (want(pkt.subarray(10), info)) found = true;
      });
    }
    return found;
  } finally {
    ep.close();
  }
}

async function masterMac(
  lab: { ip: (ns: string, ...a: string[]) => Promise<{ stdout: string }> },
  ns: string,
) {
  const out = (await lab.ip(ns, "-j", "link", "show", "m0")).stdout;
  return parseMac((JSON.parse(out) as { address: string }[])[0].address);
}

for (const rx of ["tpacket-v2", "tpacket-v3", "recvmmsg"] as const satisfies readonly RxMode[]) {
  test(`${rx}: a frame sent on the master is answered and the answer received`, async (t) => {
    let s: PacketSocket | undefined;
    const lab = await realLab(t, [], async () => s?.close());
    if (lab === undefined) return;
    const topo = await baseTopology(lab);
    const mac = await masterMac(lab, topo.host);
    s = PacketSocket.open({ ifname: "m0", netns: topo.host, rx });
    assert.equal(s.rxMode, rx);
    const req = arpRequest(mac, "10.0.0.99", ROUTER);
    assert.equal(s.send(req, req.length), req.length);
    const got = receiveUntil(
      s,
      (f, info) =>
        f[12] === 0x08 && f[13] === 0x06 && f[21] === 2 && readIpv4(f, 28) === ipv4(ROUTER) && info === 0,
      3000,
    );
    assert.ok(got, "the router's ARP reply came back (PACKET_HOST)");
  });
}

test("PACKET_IGNORE_OUTGOING hides the host's own transmissions on the master", async (t) => {
  const sockets: PacketSocket[] = [];
  const lab = await realLab(t, ["ping"], async () => {
    for (const s of sockets) s.close();
  });
  if (lab === undefined) return;
  const topo = await baseTopology(lab, { hostAddr: true });
  const seeing = PacketSocket.open({ ifname: "m0", netns: topo.host, ignoreOutgoing: false });
  const ignoring = PacketSocket.open({ ifname: "m0", netns: topo.host });
  sockets.push(seeing, ignoring);
  await lab.exec(topo.host, ["ping", "-c", "2", "-i", "0.2", "-W", "1", ROUTER]);
  let outSeen = 0;
  let outIgnored = 0;
  let inIgnored = 0;
  receiveUntil(
    seeing,
    (_f, info) => {
      if ((info & 0xff) === PACKET_OUTGOING) outSeen++;
      return false;
    },
    300,
  );
  receiveUntil(
    ignoring,
    (_f, info) => {
      if ((info & 0xff) === PACKET_OUTGOING) outIgnored++;
      else inIgnored++;
      return false;
    },
    300,
  );
  assert.ok(outSeen >= 2, `outgoing frames seen: ${outSeen}`);
  assert.equal(outIgnored, 0);
  assert.ok(inIgnored >= 2, "the replies still arrive");
});

test("PACKET_QDISC_BYPASS hides transmitted frames from tcpdump on the master (pitfall 6)", async (t) => {
  const sockets: PacketSocket[] = [];
  const lab = await realLab(t, ["tcpdump"], async () => {
    for (const s of sockets) s.close();
  });
  if (lab === undefined) return;
  const topo = await baseTopology(lab);
  const mac = await masterMac(lab, topo.host);
  const dump = lab.spawn(topo.host, ["tcpdump", "-i", "m0", "-nn", "-l", "-p", "arp"]);
  await dump.waitForOutput(/listening on/);
  const normal = PacketSocket.open({ ifname: "m0", netns: topo.host });
  const bypass = PacketSocket.open({ ifname: "m0", netns: topo.host, qdiscBypass: true });
  sockets.push(normal, bypass);
  for (let i = 0; i < 3; i++) {
    const a = arpRequest(mac, "10.0.0.98", ROUTER);
    const b = arpRequest(mac, "10.0.0.97", ROUTER);
    assert.equal(normal.send(a, a.length), a.length);
    assert.equal(bypass.send(b, b.length), b.length);
  }
  // Both kinds reach the router: it answers both senders.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await dump.stop("SIGINT");
  const seen = (who: string) => dump.stdout.split("\n").filter((l) => l.includes(`tell ${who}`)).length;
  const replies = dump.stdout.split("\n").filter((l) => l.includes("Reply")).length;
  t.diagnostic(
    `tcpdump saw ${seen("10.0.0.98")} normal requests, ${seen("10.0.0.97")} bypass requests, ${replies} replies`,
  );
  assert.equal(seen("10.0.0.98"), 3);
  assert.equal(seen("10.0.0.97"), 0, "qdisc bypass skips the taps tcpdump uses");
  assert.ok(replies >= 6, "yet the router answered both");
});
