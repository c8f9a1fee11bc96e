/**
 * nftables rule evaluation on crafted packets: rulesets are loaded with the simulated `nft`
 * and packets are pushed through the namespace's hooks with nfHook, as the IP stacks do.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bootKernel,
  type Kernel,
  NF,
  NF_INET,
  NF_LOG_ALL_NETNS,
  type NetNamespace,
  NFPROTO,
  netfilterInit,
  nfCtEntries,
  nfHasHooks,
  nfHook,
} from "../../src/kernel/index.ts";
import {
  deliverIn,
  forward,
  frame4,
  frame6,
  sendOut,
  skbOf,
} from "../../src/kernel/netfilter/test-packets.ts";
import { nftMain } from "../../src/tools/index.ts";
import { runTool } from "./netfilter-tools.ts";

function setup(name = "ev"): {
  k: Kernel;
  net: NetNamespace;
  nft: (...argv: string[]) => ReturnType<typeof runTool>;
} {
  const k = bootKernel();
  netfilterInit(k);
  const net = k.createNamespace(name);
  return { k, net, nft: (...argv) => runTool(nftMain, k, net, argv) };
}

const ping = (src = "10.0.0.1", dst = "10.0.0.2", id = 1) => frame4(src, dst, { icmp: "echo-request", id });
const pong = (src = "10.0.0.2", dst = "10.0.0.1", id = 1) => frame4(src, dst, { icmp: "echo-reply", id });

test("counters count packets and IP bytes; a drop rule drops", async () => {
  const { net, nft } = setup();
  const load = await nft(
    "add table ip f; add chain ip f in { type filter hook input priority 0; }; " +
      "add rule ip f in icmp type echo-request counter; add rule ip f in ip saddr 10.0.0.66 counter drop",
  );
  assert.equal(load.rc, 0, load.err);
  const dev = net.loopback;
  assert.equal(deliverIn(net, skbOf(ping(), dev), dev), NF.ACCEPT);
  assert.equal(deliverIn(net, skbOf(ping(), dev), dev), NF.ACCEPT);
  assert.equal(deliverIn(net, skbOf(ping("10.0.0.66"), dev), dev), NF.DROP);
  assert.equal(deliverIn(net, skbOf(pong(), dev), dev), NF.ACCEPT);
  const list = (await nft("list", "ruleset")).out;
  assert.equal(
    list,
    "table ip f {\n\tchain in {\n\t\ttype filter hook input priority filter; policy accept;\n" +
      "\t\ticmp type echo-request counter packets 3 bytes 252\n" +
      "\t\tip saddr 10.0.0.66 counter packets 1 bytes 84 drop\n\t}\n}\n",
  );
});

test("jump, goto, return, continue and the base chain policy", async () => {
  const { net, nft } = setup();
  const load = await runTool(nftMain, net.kernel, net, ["-f", "-"], {
    stdin: `table inet t {
      chain sub { ip saddr 10.0.0.5 return; ip saddr 10.0.0.0/24 counter accept; }
      chain gsub { counter; }
      chain in {
        type filter hook input priority 0; policy drop;
        continue
        jump sub
        ip saddr 10.0.1.1 goto gsub
        ip saddr 10.0.0.5 accept
      }
    }`,
  });
  assert.equal(load.rc, 0, load.err);
  const dev = net.loopback;
  assert.equal(
    deliverIn(net, skbOf(ping("10.0.0.7"), dev), dev),
    NF.ACCEPT,
    "accepted in the jumped-to chain",
  );
  assert.equal(deliverIn(net, skbOf(ping("10.0.0.5"), dev), dev), NF.ACCEPT, "returned, then accepted");
  assert.equal(deliverIn(net, skbOf(ping("10.0.1.1"), dev), dev), NF.DROP, "goto: end of gsub is the policy");
  assert.equal(deliverIn(net, skbOf(ping("10.0.2.1"), dev), dev), NF.DROP, "policy drop");
  const list = (await nft("list", "chain", "inet", "t", "gsub")).out;
  assert.match(list, /counter packets 1 bytes 84/);
});

test("ct state new / established across a request and its reply", async () => {
  const { net, nft } = setup();
  const load = await runTool(nftMain, net.kernel, net, ["-f", "-"], {
    stdin: `table inet t {
      chain out { type filter hook output priority 0; ct state new counter comment "out-new"; }
      chain in {
        type filter hook input priority 0; policy drop;
        ct state established,related counter accept comment "in-est"
        ct state new counter comment "in-new"
      }
    }`,
  });
  assert.equal(load.rc, 0, load.err);
  assert.equal(
    nfHasHooks(net, NFPROTO.IPV4, NF_INET.PRE_ROUTING),
    true,
    "ct rules brought the conntrack hooks",
  );
  const dev = net.loopback;
  assert.equal(sendOut(net, skbOf(ping(), dev), dev), NF.ACCEPT);
  assert.equal(deliverIn(net, skbOf(pong(), dev), dev), NF.ACCEPT, "the reply is established");
  assert.equal(
    deliverIn(net, skbOf(ping("10.0.0.9", "10.0.0.1", 5), dev), dev),
    NF.DROP,
    "new inbound: dropped",
  );
  const list = (await nft("list", "ruleset")).out;
  assert.match(list, /ct state new counter packets 1 bytes 84 comment "out-new"/);
  assert.match(list, /ct state established,related counter packets 1 bytes 84 accept comment "in-est"/);
  assert.match(list, /ct state new counter packets 1 bytes 84 comment "in-new"/);
  assert.equal(nfCtEntries(net).length, 1, "the dropped NEW packet was never confirmed");
  assert.equal((await nft("delete", "table", "inet", "t")).rc, 0);
  assert.equal(nfHasHooks(net, NFPROTO.IPV4, NF_INET.PRE_ROUTING), false, "no ct rule left, no hooks");
});

test("inet tables see IPv4 and IPv6; sets, prefixes, ranges, negation", async () => {
  const { net, nft } = setup();
  const load = await runTool(nftMain, net.kernel, net, ["-f", "-"], {
    stdin: `table inet t {
      chain forward {
        type filter hook forward priority 0; policy accept;
        ip6 saddr fd00::/64 udp dport { 53, 1000-2000 } counter drop
        ip daddr != 192.168.0.0/16 meta l4proto udp udp sport 1-100 counter drop
        meta nfproto ipv6 counter
        iifname "l*" oifname "lo" counter
      }
    }`,
  });
  assert.equal(load.rc, 0, load.err);
  const dev = net.loopback;
  const v6 = (dport: number) => skbOf(frame6("fd00::1", "fd01::1", { udp: [5, dport] }), dev);
  assert.equal(forward(net, v6(53), dev, dev), NF.DROP);
  assert.equal(forward(net, v6(1500), dev, dev), NF.DROP);
  assert.equal(forward(net, v6(2001), dev, dev), NF.ACCEPT);
  const v4 = (dst: string, sport: number) => skbOf(frame4("10.0.0.1", dst, { udp: [sport, 9] }), dev);
  assert.equal(forward(net, v4("8.8.8.8", 50), dev, dev), NF.DROP);
  assert.equal(forward(net, v4("192.168.1.1", 50), dev, dev), NF.ACCEPT);
  assert.equal(forward(net, v4("8.8.8.8", 500), dev, dev), NF.ACCEPT);
  const list = (await nft("list", "ruleset")).out;
  assert.match(list, /meta nfproto ipv6 counter packets 1 bytes 52\n/);
  assert.match(list, /iifname "l\*" oifname "lo" counter packets 3 bytes \d+\n/);
});

test("meta mark set is seen by later chains; meta pkttype, iif and ip ttl match", async () => {
  const { net, nft } = setup();
  const load = await nft(
    "add table ip m; add chain ip m a { type filter hook prerouting priority -10; }; " +
      "add chain ip m b { type filter hook prerouting priority 10; }; " +
      "add rule ip m a ip ttl < 10 meta mark set 0x2a; " +
      "add rule ip m b meta mark 42 iif lo meta pkttype host counter drop",
  );
  assert.equal(load.rc, 0, load.err);
  const dev = net.loopback;
  const low = skbOf(frame4("10.0.0.1", "10.0.0.2", { icmp: "echo-request", id: 1 }, 5), dev);
  assert.equal(nfHook(NFPROTO.IPV4, NF_INET.PRE_ROUTING, net, low, dev, null), NF.DROP);
  assert.equal(low.mark, 42);
  const high = skbOf(frame4("10.0.0.1", "10.0.0.2", { icmp: "echo-request", id: 1 }, 64), dev);
  assert.equal(nfHook(NFPROTO.IPV4, NF_INET.PRE_ROUTING, net, high, dev, null), NF.ACCEPT);
  assert.equal(high.mark, 0);
});

test("log writes nf_log lines to the kernel log, from the initial namespace only by default", async () => {
  const k = bootKernel();
  netfilterInit(k);
  const other = k.createNamespace("o");
  for (const net of [k.initNet, other]) {
    const r = await runTool(nftMain, k, net, [
      'add table ip l; add chain ip l in { type filter hook input priority 0; }; add rule ip l in log prefix "IN: "',
    ]);
    assert.equal(r.rc, 0, r.err);
  }
  const skb = () => skbOf(ping(), k.initNet.loopback);
  deliverIn(other, skb(), other.loopback);
  assert.equal(k.log.length, 0, "other namespaces do not log");
  deliverIn(k.initNet, skb(), k.initNet.loopback);
  assert.equal(k.log.length, 1);
  assert.equal(
    k.log[0].text,
    "IN: IN=lo OUT= MAC=02:00:00:00:00:02:02:00:00:00:00:01:08:00 SRC=10.0.0.1 DST=10.0.0.2 LEN=84 " +
      "TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1 ",
  );
  k.initNet.sysctl.set(NF_LOG_ALL_NETNS, "1");
  deliverIn(other, skb(), other.loopback);
  assert.equal(k.log.length, 2);
});

test("bad input: nft-style error, exit 1, ruleset unchanged (the whole batch is atomic)", async () => {
  const { net, nft } = setup();
  await nft(
    "add table inet t; add chain inet t c { type filter hook input priority 0; }; add rule inet t c counter",
  );
  const before = (await nft("-a", "list", "ruleset")).out;
  const bad = await nft("add rule inet t c ip saddr 1.2.3.400 accept");
  assert.deepEqual(bad, {
    rc: 1,
    out: "",
    err:
      "Error: Could not resolve hostname: Name or service not known\n" +
      "add rule inet t c ip saddr 1.2.3.400 accept\n" +
      "                           ^^^^^^^^^\n",
  });
  const batch = await runTool(nftMain, net.kernel, net, ["-f", "-"], {
    stdin: "add chain inet t d\nadd rule inet t d counter\nadd rule inet t c jump nosuch\n",
  });
  assert.equal(batch.rc, 1);
  assert.equal(
    batch.err,
    "/dev/stdin:3:24-29: Error: Could not process rule: No such file or directory\n" +
      "add rule inet t c jump nosuch\n" +
      "                       ^^^^^^\n",
  );
  assert.equal(
    (await nft("-a", "list", "ruleset")).out.replace(/# handle \d+/g, ""),
    before.replace(/# handle \d+/g, ""),
  );
  assert.equal(
    (await nft("list", "chain", "inet", "t", "d")).rc,
    1,
    "chain d of the failed batch does not exist",
  );
});
