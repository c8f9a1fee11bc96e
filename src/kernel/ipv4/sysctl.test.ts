import assert from "node:assert/strict";
import { test } from "node:test";
import { ipv4Lab, mac } from "../../../test/kernel/ipv4-lab.ts";
import { inDevForward } from "./sysctl.ts";

test("a new namespace has Linux's IPv4 sysctl defaults", () => {
  const lab = ipv4Lab();
  const n = lab.ns("n");
  const get = (k: string) => n.sysctl.get(k);
  assert.equal(get("net.ipv4.ip_forward"), "0");
  assert.equal(get("net.ipv4.icmp_echo_ignore_broadcasts"), "1");
  assert.equal(get("net.ipv4.icmp_ratelimit"), "1000");
  assert.equal(get("net.ipv4.icmp_ratemask"), "6168");
  assert.equal(get("net.ipv4.conf.all.accept_source_route"), "0");
  assert.equal(get("net.ipv4.conf.default.accept_source_route"), "1");
  assert.equal(get("net.ipv4.conf.lo.disable_policy"), "1");
  assert.equal(get("net.ipv4.conf.default.send_redirects"), "1");
  assert.equal(get("net.ipv4.neigh.lo.retrans_time_ms"), "1000");
  assert.equal(get("net.ipv4.neigh.lo.base_reachable_time_ms"), "30000");
  assert.equal(get("net.ipv4.neigh.lo.delay_first_probe_time"), "5");
  assert.equal(get("net.ipv4.neigh.lo.unres_qlen_bytes"), "212992");
  assert.equal(get("net.ipv4.neigh.default.gc_thresh3"), undefined, "gc thresholds exist only in init_net");
  assert.equal(lab.k.initNet.sysctl.get("net.ipv4.neigh.default.gc_thresh3"), "1024");
});

test("writing ip_forward switches all, default and every device (and all.accept_redirects)", () => {
  const lab = ipv4Lab();
  const r = lab.ns("r");
  const h = lab.ns("h");
  const [r0] = lab.veth(r, "r0", h, "h0", mac(1), mac(2));
  r.sysctl.set("net.ipv4.ip_forward", "1");
  assert.equal(r.sysctl.get("net.ipv4.conf.all.forwarding"), "1");
  assert.equal(r.sysctl.get("net.ipv4.conf.default.forwarding"), "1");
  assert.equal(r.sysctl.get("net.ipv4.conf.r0.forwarding"), "1");
  assert.equal(r.sysctl.get("net.ipv4.conf.all.accept_redirects"), "0");
  assert.ok(inDevForward(r0));
  r.sysctl.set("net.ipv4.conf.all.forwarding", "0");
  assert.equal(r.sysctl.get("net.ipv4.ip_forward"), "0");
  assert.ok(!inDevForward(r0));
  assert.equal(h.sysctl.get("net.ipv4.ip_forward"), "0", "per namespace");
});

test("default.* reaches devices whose value was never written", () => {
  const lab = ipv4Lab();
  const n = lab.ns("n");
  const m = lab.ns("m");
  lab.veth(n, "a0", m, "b0", mac(1), mac(2));
  lab.veth(n, "a1", m, "b1", mac(3), mac(4));
  n.sysctl.set("net.ipv4.conf.a1.rp_filter", "2");
  n.sysctl.set("net.ipv4.conf.default.rp_filter", "1");
  assert.equal(n.sysctl.get("net.ipv4.conf.a0.rp_filter"), "1");
  assert.equal(n.sysctl.get("net.ipv4.conf.a1.rp_filter"), "2");
});
