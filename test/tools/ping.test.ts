/**
 * `ping` on the simulated kernel between two namespaces over a veth pair: exact output (the
 * simulation is deterministic, RTTs are virtual), exit codes, virtual timing, signals.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { NSEC_PER_MSEC, NSEC_PER_SEC } from "../../src/kernel/index.ts";
import { pingMain } from "../../src/tools/index.ts";
import { formatG, formatRtt } from "../../src/tools/ping.ts";
import { ip, toolCtx, vethPair } from "./tool-harness.ts";

test("RTT and loss formatting follow iputils", () => {
  assert.equal(formatRtt(45), "0.045");
  assert.equal(formatRtt(999), "0.999");
  assert.equal(formatRtt(2569), "2.57");
  assert.equal(formatRtt(15700), "15.7");
  assert.equal(formatRtt(156458), "156");
  assert.equal(formatRtt(99949), "99.9");
  assert.equal(formatRtt(99950), "100");
  assert.equal(formatG(0), "0");
  assert.equal(formatG(100), "100");
  assert.equal(formatG((2 * 100) / 6), "33.3333");
  assert.equal(formatG((4 * 100) / 6), "66.6667");
});

test("two replies: lines, statistics, exit 0, virtual time spent", async () => {
  const { kernel, a } = await vethPair();
  const t0 = kernel.now;
  const ctx = toolCtx(kernel, a, ["-c2", "-i0.2", "-W1", "10.9.0.2"]);
  assert.equal(await pingMain(ctx), 0);
  assert.match(
    ctx.outText(),
    /^PING 10\.9\.0\.2 \(10\.9\.0\.2\) 56\(84\) bytes of data\.\n64 bytes from 10\.9\.0\.2: icmp_seq=1 ttl=64 time=0\.\d{3} ms\n64 bytes from 10\.9\.0\.2: icmp_seq=2 ttl=64 time=0\.\d{3} ms\n\n--- 10\.9\.0\.2 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss, time 200ms\nrtt min\/avg\/max\/mdev = 0\.\d{3}\/0\.\d{3}\/0\.\d{3}\/0\.\d{3} ms\n$/,
  );
  assert.equal(ctx.errText(), "");
  // It ends with the second reply, 200 ms (plus the reply's few microseconds) later.
  const spent = kernel.now - t0;
  assert.ok(spent >= 200n * NSEC_PER_MSEC && spent < 201n * NSEC_PER_MSEC, `spent ${spent} ns`);
});

test("same run twice gives the same bytes (determinism)", async () => {
  const outs: string[] = [];
  for (let i = 0; i < 2; i++) {
    const { kernel, a } = await vethPair();
    const ctx = toolCtx(kernel, a, ["-c3", "-i0.2", "10.9.0.2"]);
    await pingMain(ctx);
    outs.push(ctx.outText());
  }
  assert.equal(outs[0], outs[1]);
});

test("no answer: -W after the last probe, exit 1, blank line instead of rtt", async () => {
  const { kernel, a } = await vethPair();
  const t0 = kernel.now;
  const ctx = toolCtx(kernel, a, ["-c2", "-i0.2", "-W1", "10.9.0.77"]);
  assert.equal(await pingMain(ctx), 1);
  assert.equal(
    ctx.outText(),
    "PING 10.9.0.77 (10.9.0.77) 56(84) bytes of data.\n\n--- 10.9.0.77 ping statistics ---\n2 packets transmitted, 0 received, 100% packet loss, time 200ms\n\n",
  );
  assert.equal(kernel.now - t0, 1200n * NSEC_PER_MSEC);
});

test("ARP failure: Destination Host Unreachable from our own address, +errors, pipe", async () => {
  const { kernel, a } = await vethPair();
  const ctx = toolCtx(kernel, a, ["-c3", "-i0.5", "-W5", "10.9.0.77"]);
  assert.equal(await pingMain(ctx), 1);
  const out = ctx.outText();
  assert.match(out, /From 10\.9\.0\.1 icmp_seq=1 Destination Host Unreachable\n/);
  assert.match(
    out,
    /3 packets transmitted, 0 received, \+3 errors, 100% packet loss, time 1000ms\npipe 3\n$/,
  );
});

test("broadcast: needs -b; with -b a WARNING and no DUP! marks for the second responder", async () => {
  const { kernel, a } = await vethPair();
  const no = toolCtx(kernel, a, ["-c1", "-W1", "10.9.0.255"]);
  assert.equal(await pingMain(no), 2);
  assert.equal(
    no.errText(),
    "ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules\n",
  );
  const ctx = toolCtx(kernel, a, ["-b", "-c2", "-i0.2", "-W1", "10.9.0.255"]);
  assert.equal(await pingMain(ctx), 0);
  assert.equal(ctx.errText(), "WARNING: pinging broadcast address\n");
  const lines = ctx.outText().split("\n");
  assert.deepEqual(
    lines.filter((l) => l.includes("bytes from")).map((l) => l.replace(/ time=.*/, "")),
    [
      "64 bytes from 10.9.0.1: icmp_seq=1 ttl=64",
      "64 bytes from 10.9.0.2: icmp_seq=1 ttl=64",
      "64 bytes from 10.9.0.1: icmp_seq=2 ttl=64",
    ],
  );
  assert.ok(!ctx.outText().includes("DUP!"));
  assert.match(ctx.outText(), /2 packets transmitted, 2 received, \+1 duplicates, 0% packet loss/);
});

test("setup errors exit 2 before the header", async () => {
  const { kernel, a } = await vethPair();
  const cases: [string[], string, number][] = [
    [["-c1", "10.99.0.1"], "ping: connect: Network is unreachable\n", 2],
    [["-c1", "foo.invalid"], "ping: foo.invalid: Name or service not known\n", 2],
    [["-c1", "-I", "nosuch", "10.9.0.2"], "ping: SO_BINDTODEVICE nosuch: No such device\n", 2],
    [["-c1", "-I", "10.9.0.99", "10.9.0.2"], "ping: bind: Cannot assign requested address\n", 2],
    [
      ["-c", "0", "10.9.0.2"],
      "ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807\n",
      1,
    ],
    [["-4", "-c1", "::1"], "ping: ::1: Address family for hostname not supported\n", 2],
    [[], "ping: usage error: Destination address required\n", 1],
    [["-6", "-c1", "2001:db8:77::1"], "ping: connect: Network is unreachable\n", 2],
  ];
  for (const [argv, err, code] of cases) {
    const ctx = toolCtx(kernel, a, argv);
    assert.equal(await pingMain(ctx), code, argv.join(" "));
    assert.equal(ctx.errText(), err, argv.join(" "));
    assert.equal(ctx.outText(), "", argv.join(" "));
  }
});

test("-M do larger than the MTU: local error, counted as transmitted and as an error", async () => {
  const { kernel, a } = await vethPair();
  const ctx = toolCtx(kernel, a, ["-c1", "-W1", "-s", "3000", "-M", "do", "10.9.0.2"]);
  assert.equal(await pingMain(ctx), 1);
  assert.equal(ctx.errText(), "ping: local error: message too long, mtu=1500\n");
  assert.match(
    ctx.outText(),
    /1 packets transmitted, 0 received, \+1 errors, 100% packet loss, time 0ms\n\n$/,
  );
});

test("ENOBUFS (the veth peer refuses an oversize frame): iputils retries while oom_count * 500 ms < -W", async () => {
  // errors.out: slave MTU 9000 over a 1500 master, `ping -c1 -W1 -s 3000` → eth0 tx_dropped 2
  // per ping. pinger(): ENOBUFS is not a sent probe; the same seq goes again an interval later
  // until oom_count * min(interval/2, 500) reaches the linger time, then a hard error.
  for (const [w, attempts] of [
    ["1", 2],
    ["3", 6],
  ] as const) {
    const { kernel, a } = await vethPair();
    await ip(kernel, "-n a link set va mtu 9000");
    const va = a.dev("va")!;
    // resolve the neighbour first: a packet queued for ARP reports success at sendmsg
    assert.equal(await pingMain(toolCtx(kernel, a, ["-c1", "-W1", "10.9.0.2"])), 0);
    const t0 = kernel.now;
    const ctx = toolCtx(kernel, a, ["-c1", `-W${w}`, "-s", "3000", "-M", "do", "10.9.0.2"]);
    assert.equal(await pingMain(ctx), 1);
    assert.equal(ctx.errText(), "ping: sendmsg: No buffer space available\n");
    assert.equal(va.stats.txDropped, attempts, `-W${w}`);
    assert.match(
      ctx.outText(),
      new RegExp(
        `\\n1 packets transmitted, 0 received, 100% packet loss, time ${(attempts - 1) * 1000}ms\\n\\n$`,
      ),
    );
    // attempts one interval apart, then the linger time after the last one
    const spent = kernel.now - t0;
    assert.equal(spent / NSEC_PER_MSEC, BigInt((attempts - 1) * 1000 + Number(w) * 1000));
  }
});

test("IPv6 all-nodes with a scope: both link-locals answer", async () => {
  const { kernel, a } = await vethPair();
  const ctx = toolCtx(kernel, a, ["-6", "-c2", "-i0.2", "-W1", "ff02::1%va"]);
  assert.equal(await pingMain(ctx), 0);
  const out = ctx.outText();
  assert.ok(out.startsWith("PING ff02::1%va(ff02::1%va) 56 data bytes\n"), out);
  assert.match(out, /64 bytes from fe80::ff:fe00:b%va: icmp_seq=1 ttl=64 time=/);
  assert.match(out, /2 packets transmitted, 2 received, \+1 duplicates, 0% packet loss/);
});

test("-s below 16: no times and no rtt line", async () => {
  const { kernel, a } = await vethPair();
  const ctx = toolCtx(kernel, a, ["-c1", "-s", "8", "10.9.0.2"]);
  assert.equal(await pingMain(ctx), 0);
  assert.equal(
    ctx.outText(),
    "PING 10.9.0.2 (10.9.0.2) 8(36) bytes of data.\n16 bytes from 10.9.0.2: icmp_seq=1 ttl=64\n\n--- 10.9.0.2 ping statistics ---\n1 packets transmitted, 1 received, 0% packet loss, time 0ms\n\n",
  );
});

test("an endless ping detaches and stops with statistics on SIGINT", async () => {
  const { kernel, a } = await vethPair();
  const ac = new AbortController();
  let detached = false;
  const ctx = toolCtx(kernel, a, ["-i0.5", "10.9.0.2"], {
    signal: ac.signal,
    detach: () => (detached = true),
  });
  const done = pingMain(ctx);
  await new Promise((r) => setImmediate(r));
  assert.equal(detached, true);
  // Another command moves the clock (as `sleep 1.2` would).
  kernel.loop.runUntil(kernel.now + 1200n * NSEC_PER_MSEC);
  ac.abort("SIGINT");
  assert.equal(await done, 0);
  assert.match(ctx.outText(), /icmp_seq=3 /);
  assert.match(ctx.outText(), /3 packets transmitted, 3 received, 0% packet loss, time 1000ms\n/);
});

test("SIGTERM kills without statistics", async () => {
  const { kernel, a } = await vethPair();
  const ac = new AbortController();
  const ctx = toolCtx(kernel, a, ["10.9.0.2"], { signal: ac.signal, detach: () => {} });
  const done = pingMain(ctx);
  kernel.loop.runUntil(kernel.now + NSEC_PER_SEC);
  ac.abort("SIGTERM");
  assert.equal(await done, 143);
  assert.ok(!ctx.outText().includes("statistics"));
});

test("an ICMP error is read like iputils' recvmsg does: it does not come back as a sendmsg error", async () => {
  const { kernel, a } = await vethPair();
  const ctx = toolCtx(kernel, a, ["-c6", "-i1", "-W5", "10.9.0.77"]);
  assert.equal(await pingMain(ctx), 1);
  assert.equal(ctx.errText(), "");
  assert.equal(ctx.outText().match(/Destination Host Unreachable/g)?.length, 6);
  assert.match(ctx.outText(), /6 packets transmitted, 0 received, \+6 errors, 100% packet loss/);
});

test("-e sets the ICMP echo identifier (IPv4 and IPv6); out of range is an argument error", async () => {
  const { kernel, a } = await vethPair();
  const v4 = toolCtx(kernel, a, ["-e", "4001", "-v", "-c1", "10.9.0.2"]);
  assert.equal(await pingMain(v4), 0);
  assert.match(v4.outText(), /icmp_seq=1 ident=4001 /);
  const v6 = toolCtx(kernel, a, ["-e4002", "-v", "-c1", "2001:db8:9::1"]);
  assert.equal(await pingMain(v6), 0);
  assert.match(v6.outText(), /icmp_seq=1 ident=4002 /);
  const bad = toolCtx(kernel, a, ["-e", "65536", "-c1", "10.9.0.2"]);
  assert.equal(await pingMain(bad), 1);
  assert.equal(bad.errText(), "ping: invalid argument: '65536': out of range: 0 <= value <= 65535\n");
});

test("-s 70000: sendmsg fails (EMSGSIZE) with nothing queued: silently transmitted, no +errors", async () => {
  // iputils pinger: receive_error_msg finds the error queue empty (-1), so hard_local_error
  // prints no "sendmsg" line; the differential errors.out shows the same on a real kernel.
  const { kernel, a } = await vethPair();
  const ctx = toolCtx(kernel, a, ["-c1", "-W1", "-s", "70000", "10.9.0.2"]);
  assert.equal(await pingMain(ctx), 1);
  assert.equal(ctx.errText(), "");
  assert.equal(
    ctx.outText(),
    "PING 10.9.0.2 (10.9.0.2) 70000(70028) bytes of data.\n\n--- 10.9.0.2 ping statistics ---\n1 packets transmitted, 0 received, 100% packet loss, time 0ms\n\n",
  );
});
