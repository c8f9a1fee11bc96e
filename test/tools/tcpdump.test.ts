/**
 * `tcpdump` on the simulated kernel: live capture through a packet tap (printed, or written
 * with -w and read back with -r), the stderr lines real tcpdump prints, -c, signals, errors.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { IFF, NSEC_PER_SEC } from "../../src/kernel/index.ts";
import { pingMain, tcpdumpMain } from "../../src/tools/index.ts";
import { readPcap } from "../../src/wire/index.ts";
import { toolCtx, vethPair } from "./tool-harness.ts";

const LISTEN_VA = "listening on va, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n";

test("live capture printed: header lines, packets as they pass, statistics and a blank line on SIGINT", async () => {
  const { kernel, a } = await vethPair();
  const ac = new AbortController();
  let detached = false;
  const cap = toolCtx(kernel, a, ["-i", "va", "-nn", "-e", "-t", "icmp"], {
    signal: ac.signal,
    detach: () => (detached = true),
  });
  const done = tcpdumpMain(cap);
  await new Promise((r) => setImmediate(r));
  assert.equal(detached, true);
  assert.equal(
    cap.errText(),
    `tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n${LISTEN_VA}`,
  );
  assert.ok(a.dev("va")!.flags & IFF.PROMISC, "the capture puts the device in promiscuous mode");
  assert.equal(kernel.log.at(-1)?.text, "device va entered promiscuous mode");
  await pingMain(toolCtx(kernel, a, ["-c1", "10.9.0.2"]));
  ac.abort("SIGINT");
  assert.equal(await done, 0);
  const lines = cap.outText().split("\n");
  assert.equal(lines.length, 4, cap.outText());
  assert.match(
    lines[0]!,
    /^02:00:00:00:00:0a > 02:00:00:00:00:0b, ethertype IPv4 \(0x0800\), length 98: 10\.9\.0\.1 > 10\.9\.0\.2: ICMP echo request, id \d+, seq 1, length 64$/,
  );
  assert.match(
    lines[1]!,
    /^02:00:00:00:00:0b > 02:00:00:00:00:0a, .*ICMP echo reply, id \d+, seq 1, length 64$/,
  );
  assert.deepEqual(lines.slice(2), ["", ""], "a blank line after the packets on SIGINT");
  assert.ok(
    cap.errText().endsWith("2 packets captured\n2 packets received by filter\n0 packets dropped by kernel\n"),
  );
  assert.equal(a.dev("va")!.flags & IFF.PROMISC, 0);
});

test("-w writes a pcap with virtual time stamps; the file exists before detach; -r reads it back", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ipvl-tcpdump-"));
  try {
    const { kernel, a } = await vethPair();
    const ac = new AbortController();
    let existedAtDetach = false;
    const cap = toolCtx(
      kernel,
      a,
      ["-i", "va", "--immediate-mode", "-nn", "-e", "-t", "-U", "-w", "x.pcap", "arp or icmp"],
      {
        signal: ac.signal,
        cwd: dir,
        detach: () => (existedAtDetach = existsSync(join(dir, "x.pcap"))),
      },
    );
    const done = tcpdumpMain(cap);
    await new Promise((r) => setImmediate(r));
    assert.equal(existedAtDetach, true);
    assert.equal(cap.errText(), `tcpdump: ${LISTEN_VA}`);
    const t0 = kernel.now;
    await pingMain(toolCtx(kernel, a, ["-c1", "10.9.0.2"]));
    ac.abort("SIGINT");
    assert.equal(await done, 0);
    assert.equal(cap.outText(), "");
    assert.ok(
      cap
        .errText()
        .endsWith("4 packets captured\n4 packets received by filter\n0 packets dropped by kernel\n"),
    );
    const file = readPcap(readFileSync(join(dir, "x.pcap")));
    assert.equal(file.packets.length, 4);
    assert.ok(file.packets[0]!.tsNanos >= t0 && file.packets[0]!.tsNanos < t0 + NSEC_PER_SEC);
    const rd = toolCtx(kernel, a, ["-nn", "-e", "-t", "-r", "x.pcap"], { cwd: dir });
    assert.equal(await tcpdumpMain(rd), 0);
    assert.equal(
      rd.errText(),
      "reading from file x.pcap, link-type EN10MB (Ethernet), snapshot length 262144\n",
    );
    const lines = rd.outText().trim().split("\n");
    assert.equal(
      lines[0],
      "02:00:00:00:00:0a > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.9.0.2 tell 10.9.0.1, length 28",
    );
    assert.equal(
      lines[1],
      "02:00:00:00:00:0b > 02:00:00:00:00:0a, ethertype ARP (0x0806), length 42: Reply 10.9.0.2 is-at 02:00:00:00:00:0b, length 28",
    );
    assert.match(lines[2]!, /ICMP echo request, id \d+, seq 1, length 64$/);
    assert.match(lines[3]!, /ICMP echo reply, id \d+, seq 1, length 64$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("-c N ends the capture by itself, without the blank line", async () => {
  const { kernel, a } = await vethPair();
  const cap = toolCtx(kernel, a, ["-i", "va", "-nn", "-c", "1", "icmp"], { detach: () => {} });
  const done = tcpdumpMain(cap);
  await pingMain(toolCtx(kernel, a, ["-c1", "10.9.0.2"]));
  assert.equal(await done, 0);
  assert.match(
    cap.outText(),
    /^\d\d:\d\d:\d\d\.\d{6} IP 10\.9\.0\.1 > 10\.9\.0\.2: ICMP echo request, id \d+, seq 1, length 64\n$/,
  );
  assert.ok(
    cap.errText().endsWith("1 packet captured\n1 packet received by filter\n0 packets dropped by kernel\n"),
  );
});

test("errors: unknown device, device down, bad filter, missing file", async () => {
  const { kernel, a, b } = await vethPair();
  const cases: [typeof a, string[], string][] = [
    [a, ["-i", "nosuch"], "tcpdump: nosuch: No such device exists\n(No such device exists)\n"],
    [a, ["-i", "va", "icmp and and"], "tcpdump: can't parse filter expression: syntax error\n"],
    [a, ["-i", "va", "host foo"], "tcpdump: unknown host 'foo'\n"],
    [a, ["-r", "/nonexistent/x.pcap"], "tcpdump: /nonexistent/x.pcap: No such file or directory\n"],
  ];
  for (const [net, argv, err] of cases) {
    const ctx = toolCtx(kernel, net, argv);
    assert.equal(await tcpdumpMain(ctx), 1, argv.join(" "));
    assert.equal(ctx.errText(), err, argv.join(" "));
  }
  b.dev("vb")!.flags &= ~IFF.UP;
  const down = toolCtx(kernel, b, ["-i", "vb"]);
  assert.equal(await tcpdumpMain(down), 1);
  assert.equal(down.errText(), "tcpdump: vb: That device is not up\n");
});
