/**
 * TAP slaves on the real kernel: creation with the master's MAC and MTU, the virtio-net header
 * and persistence as the kernel reports them, frames both ways, and re-attachment only from
 * inside the TAP's namespace (pitfall 5).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  IFF_NO_PI,
  IFF_TAP,
  IFF_VNET_HDR,
  ifHwaddr,
  isErrno,
  O_NONBLOCK,
  O_RDWR,
  raw,
  Tap,
  TUNSETIFF,
  withNetns,
} from "../../src/linux/index.ts";
import { check, sysOpen } from "../../src/linux/libc.ts";
import { parseMac } from "../../src/wire/index.ts";
import { realLab } from "./lab.ts";

interface IpLink {
  ifname: string;
  address: string;
  mtu: number;
  flags: string[];
  linkinfo?: { info_kind: string; info_data?: Record<string, unknown> };
}

test("a persistent TAP: MAC, MTU, vnet header, frames both ways, re-attach (pitfall 5)", async (t) => {
  let tap: Tap | undefined;
  const lab = await realLab(t, [], async () => tap?.close());
  if (lab === undefined) return;
  const a = await lab.addNamespace("tapa");
  const b = await lab.addNamespace("tapb");
  const show = async (ns: string, dev: string) =>
    (JSON.parse((await lab.ip(ns, "-d", "-j", "link", "show", "dev", dev)).stdout) as IpLink[])[0];

  tap = Tap.create({ name: "tapt", netns: a, mac: parseMac("02:00:00:aa:00:01"), mtu: 1400 });
  assert.equal(tap.flags() & (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
  let link = await show(a, "tapt");
  assert.equal(link.address, "02:00:00:aa:00:01");
  assert.equal(link.mtu, 1400);
  assert.ok(link.flags.includes("UP"));
  assert.equal(link.linkinfo?.info_kind, "tun");
  assert.equal(link.linkinfo?.info_data?.type, "tap");
  assert.equal(link.linkinfo?.info_data?.vnet_hdr, true);
  assert.equal(link.linkinfo?.info_data?.persist, true);

  // Frames in: a broadcast written to the TAP is received by the namespace's stack (counted).
  const frame = new Uint8Array(10 + 60);
  frame.fill(0xff, 10, 16);
  frame.set([0x02, 0, 0, 0, 0, 0x99, 0x88, 0xb5], 16); // src MAC, EtherType 0x88b5 (local experimental)
  assert.equal(tap.write(frame, frame.length), frame.length);
  const stats = JSON.parse((await lab.ip(a, "-s", "-j", "link", "show", "dev", "tapt")).stdout) as {
    stats64: { rx: { packets: number } };
  }[];
  assert.equal(stats[0].stats64.rx.packets, 1);
  // Frames out: the stack's IPv6 router solicitations/MLD or our ping broadcast come out with a header.
  await lab.ip(a, "addr", "add", "10.5.0.1/24", "dev", "tapt");
  await lab.exec(a, ["ping", "-c", "1", "-W", "1", "-b", "10.5.0.255"]).catch(() => undefined);
  const buf = new Uint8Array(70000);
  const n = tap.read(buf, buf.length);
  assert.ok(n > 10 + 14, `read ${n}`);
  let last = n;
  for (let i = 0; i < 100 && last > 0; i++) last = tap.read(buf, buf.length);
  assert.equal(last, -11, "EAGAIN once drained (non-blocking)");

  // Moved to another namespace, the fd still drives it: MTU (found via TUNGETDEVNETNS) and carrier.
  await lab.ip(a, "link", "set", "tapt", "netns", b);
  tap.setMtu(1300);
  tap.setCarrier(false);
  link = await show(b, "tapt");
  assert.equal(link.mtu, 1300);
  assert.ok(link.flags.includes("NO-CARRIER") || !link.flags.includes("LOWER_UP"));
  tap.setCarrier(true);
  await lab.ip(b, "link", "set", "tapt", "up");
  assert.ok((await show(b, "tapt")).flags.includes("LOWER_UP"));
  await lab.ip(b, "link", "set", "tapt", "netns", a);
  await lab.ip(a, "link", "set", "tapt", "up");

  // Closing keeps the device (persistent), without carrier, with its address.
  tap.close();
  link = await show(a, "tapt");
  assert.ok(link.flags.includes("NO-CARRIER"));

  // Re-attach only works from the TAP's namespace; elsewhere Tap.attach refuses (ENODEV) ...
  assert.throws(
    () => Tap.attach({ name: "tapt", netns: b }),
    (e: unknown) => isErrno(e, "ENODEV"),
  );
  // ... because a bare TUNSETIFF there would silently create a second, unrelated TAP (pitfall 5).
  const stray = withNetns(b, () => {
    const fd = sysOpen("/dev/net/tun", O_RDWR | O_NONBLOCK);
    try {
      const req = new Uint8Array(40);
      req.set(new TextEncoder().encode("tapt"));
      new DataView(req.buffer).setUint16(16, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, true);
      check(raw.ioctlPtr(fd, TUNSETIFF, req), "TUNSETIFF");
      return ifHwaddr("tapt");
    } finally {
      raw.close(fd);
    }
  });
  assert.notEqual(stray, parseMac("02:00:00:aa:00:01"), "an unrelated TAP appeared in the other namespace");

  tap = Tap.attach({ name: "tapt", netns: a });
  link = await show(a, "tapt");
  assert.ok(link.flags.includes("LOWER_UP"), "carrier back once attached");
  assert.equal(link.address, "02:00:00:aa:00:01");
  tap.destroy();
  await assert.rejects(lab.ip(a, "link", "show", "dev", "tapt"));
  tap = undefined;
});
