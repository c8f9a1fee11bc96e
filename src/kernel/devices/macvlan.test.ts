import assert from "node:assert/strict";
import { test } from "node:test";
import { bootKernel } from "../boot.ts";
import { NSEC_PER_MSEC } from "../clock.ts";
import { devClose, devOpen, devSetMtu } from "../dev.ts";
import { OperState } from "../netdev.ts";
import { macvlanInit } from "./macvlan.ts";

function setup() {
  const k = bootKernel();
  macvlanInit(k);
  const net = k.initNet;
  const v0 = k.linkKinds.get("veth")!.newLink(net, { name: "v0", peer: { name: "v1" } });
  devOpen(v0);
  devOpen(net.dev("v1")!);
  k.loop.runUntil(k.now + NSEC_PER_MSEC);
  const mv0 = k.linkKinds.get("macvlan")!.newLink(net, { name: "mv0", link: v0, infoData: { mode: 4 } });
  k.loop.runUntil(k.now + NSEC_PER_MSEC);
  return { k, net, v0, mv0 };
}

test("macvlan: IFLA_INFO_DATA as macvlan_fill_info dumps it (mode, flags, bcqueuelen, used)", () => {
  const { mv0 } = setup();
  assert.deepEqual(mv0.linkInfo(), {
    kind: "macvlan",
    data: { mode: 4, flags: 0, bcqueuelen: 1000, usedbcqueuelen: 1000 },
  });
});

test("macvlan: linkwatch runs at creation (UP once opened, not UNKNOWN); carrier and smaller MTUs follow the lower device", () => {
  const { k, net, v0, mv0 } = setup();
  devOpen(mv0);
  k.loop.runUntil(k.now + NSEC_PER_MSEC);
  assert.equal(mv0.operstate, OperState.UP);
  devSetMtu(v0, 1400);
  assert.equal(mv0.mtu, 1400);
  devClose(net.dev("v1")!); // v0 loses its carrier, and with it mv0

  k.loop.runUntil(k.now + NSEC_PER_MSEC);
  assert.equal(mv0.carrier, false);
  assert.equal(mv0.operstate, OperState.LOWERLAYERDOWN);
});
