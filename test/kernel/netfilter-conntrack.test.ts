/**
 * `conntrack` over crafted flows: the line formats conntrack-tools 1.4.7 prints (checked
 * against the real tool on Linux 6.x), filters, -F, -C, -D, and the errors.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { bootKernel, NFPROTO, NSEC_PER_SEC, netfilterInit, nfCtNetnsGet } from "../../src/kernel/index.ts";
import { deliverIn, frame4, frame6, ipOf, sendOut, skbOf } from "../../src/kernel/netfilter/test-packets.ts";
import { conntrackMain } from "../../src/tools/index.ts";
import { runTool } from "./netfilter-tools.ts";

function setup() {
  const k = bootKernel();
  netfilterInit(k);
  const net = k.createNamespace("ct");
  nfCtNetnsGet(net, NFPROTO.INET);
  const dev = net.loopback;
  const out = (f: Uint8Array) => sendOut(net, skbOf(f, dev), dev);
  const inn = (f: Uint8Array) => deliverIn(net, skbOf(f, dev), dev);
  const conntrack = (...argv: string[]) => runTool(conntrackMain, k, net, argv);
  const advance = (s: number) => k.loop.runUntil(k.now + BigInt(s) * NSEC_PER_SEC);
  return { k, net, out, inn, conntrack, advance };
}

/** The flows of the real-kernel session these formats were taken from. */
function traffic(t: ReturnType<typeof setup>): void {
  t.out(frame4("10.9.0.1", "10.9.0.2", { icmp: "echo-request", id: 13443 }));
  t.inn(frame4("10.9.0.2", "10.9.0.1", { icmp: "echo-reply", id: 13443 }));
  t.out(frame4("10.9.0.1", "10.9.0.2", { udp: [4000, 5000] }));
  t.inn(frame4("10.9.0.2", "10.9.0.1", { udp: [5000, 4000] }));
  const probe = frame4("10.9.0.1", "10.9.0.2", { udp: [4000, 5001] });
  t.out(probe);
  t.inn(frame4("10.9.0.2", "10.9.0.1", { icmpError: 3, code: 3, inner: ipOf(probe).slice(0, 28) }));
  const c = (flags: number) => t.out(frame4("10.9.0.1", "10.9.0.2", { tcp: [40772, 6000], flags }));
  const s = (flags: number) => t.inn(frame4("10.9.0.2", "10.9.0.1", { tcp: [6000, 40772], flags }));
  c(0x02);
  s(0x12);
  c(0x10);
  c(0x11);
  t.out(frame6("fd00::1", "fd00::2", { icmp6: "echo-request", id: 13705 }));
  t.inn(frame6("fd00::2", "fd00::1", { icmp6: "echo-reply", id: 13705 }));
  t.out(frame4("10.9.0.1", "10.9.0.2", { proto: 253 }));
  t.advance(1);
}

const ICMP =
  "icmp     1 29 src=10.9.0.1 dst=10.9.0.2 type=8 code=0 id=13443 src=10.9.0.2 dst=10.9.0.1 type=0 code=0 id=13443 mark=0 use=1\n";
const UDP =
  "udp      17 29 src=10.9.0.1 dst=10.9.0.2 sport=4000 dport=5000 src=10.9.0.2 dst=10.9.0.1 sport=5000 dport=4000 mark=0 use=1\n";
const UDP_UNREPLIED =
  "udp      17 29 src=10.9.0.1 dst=10.9.0.2 sport=4000 dport=5001 [UNREPLIED] src=10.9.0.2 dst=10.9.0.1 sport=5001 dport=4000 mark=0 use=1\n";
const TCP =
  "tcp      6 119 FIN_WAIT src=10.9.0.1 dst=10.9.0.2 sport=40772 dport=6000 src=10.9.0.2 dst=10.9.0.1 sport=6000 dport=40772 [ASSURED] mark=0 use=1\n";
const ICMP6 =
  "icmpv6   58 29 src=fd00::1 dst=fd00::2 type=128 code=0 id=13705 src=fd00::2 dst=fd00::1 type=129 code=0 id=13705 mark=0 use=1\n";
const GENERIC =
  "unknown  253 599 src=10.9.0.1 dst=10.9.0.2 [UNREPLIED] src=10.9.0.2 dst=10.9.0.1 mark=0 use=1\n";
const shown = (n: number) => `conntrack v1.4.7 (conntrack-tools): ${n} flow entries have been shown.\n`;

test("conntrack -L prints every entry in conntrack-tools' format", async () => {
  const t = setup();
  traffic(t);
  const r = await t.conntrack("-L");
  assert.deepEqual(r, { rc: 0, out: ICMP + UDP + UDP_UNREPLIED + TCP + ICMP6 + GENERIC, err: shown(6) });
});

test("conntrack -L filters: -p, -s, -d, -f, --sport/--dport, --state, -o extended", async () => {
  const t = setup();
  traffic(t);
  assert.deepEqual(await t.conntrack("-L", "-p", "udp"), { rc: 0, out: UDP + UDP_UNREPLIED, err: shown(2) });
  assert.deepEqual(await t.conntrack("-L", "-p", "tcp", "-d", "10.9.0.2"), {
    rc: 0,
    out: TCP,
    err: shown(1),
  });
  assert.deepEqual(await t.conntrack("-L", "-s", "10.9.0.9"), { rc: 0, out: "", err: shown(0) });
  assert.deepEqual(await t.conntrack("-L", "-f", "ipv6"), { rc: 0, out: ICMP6, err: shown(1) });
  assert.deepEqual(await t.conntrack("-L", "-p", "udp", "--dport", "5001"), {
    rc: 0,
    out: UDP_UNREPLIED,
    err: shown(1),
  });
  assert.deepEqual(await t.conntrack("-L", "-p", "tcp", "--state", "FIN_WAIT"), {
    rc: 0,
    out: TCP,
    err: shown(1),
  });
  assert.deepEqual(await t.conntrack("-L", "-p", "icmpv6", "-o", "extended"), {
    rc: 0,
    out: `ipv6     10 ${ICMP6}`,
    err: shown(1),
  });
});

test("conntrack -C, -D, -F", async () => {
  const t = setup();
  traffic(t);
  assert.deepEqual(await t.conntrack("-C"), { rc: 0, out: "6\n", err: "" });
  assert.deepEqual(await t.conntrack("-D", "-p", "icmp"), {
    rc: 0,
    out: ICMP,
    err: "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been deleted.\n",
  });
  assert.deepEqual(await t.conntrack("-D", "-p", "icmp"), {
    rc: 1,
    out: "",
    err: "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n",
  });
  assert.deepEqual(await t.conntrack("-F"), {
    rc: 0,
    out: "",
    err: "conntrack v1.4.7 (conntrack-tools): connection tracking table has been emptied.\n",
  });
  assert.deepEqual(await t.conntrack("-L"), { rc: 0, out: "", err: shown(0) });
});

test("conntrack usage errors", async () => {
  const t = setup();
  const tail = "Try `conntrack -h' or 'conntrack --help' for more information.\n";
  assert.deepEqual(await t.conntrack("-L", "-p", "bogus"), {
    rc: 2,
    out: "",
    err: `conntrack v1.4.7 (conntrack-tools): \`bogus' unsupported protocol\n${tail}`,
  });
  assert.deepEqual(await t.conntrack("-X"), {
    rc: 2,
    out: "",
    err: `conntrack v1.4.7 (conntrack-tools): unknown option \`-X'\n${tail}`,
  });
  assert.deepEqual(await t.conntrack("-L", "--dport", "5"), {
    rc: 2,
    out: "",
    err: `conntrack v1.4.7 (conntrack-tools): unknown option \`--dport'\n${tail}`,
  });
  assert.deepEqual(await t.conntrack("-L", "-f", "ipv7"), {
    rc: 2,
    out: "",
    err: `conntrack v1.4.7 (conntrack-tools): \`ipv7' unsupported protocol\n${tail}`,
  });
  assert.deepEqual(await t.conntrack("-V"), { rc: 0, out: "conntrack v1.4.7 (conntrack-tools)\n", err: "" });
});
