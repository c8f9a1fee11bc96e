/**
 * Finite address lifetimes in `ip addr` (valid_lft/preferred_lft counting down, "dynamic" and
 * "deprecated"). Not in the golden recordings, whose clock is real; the layout below was taken
 * from iproute2 6.1 on a real kernel right after the same commands.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { goldenKernel, runIp } from "./run-ip.ts";

async function ip(kernel: ReturnType<typeof goldenKernel>, line: string): Promise<string> {
  const r = await runIp(kernel, line.split(" "));
  assert.equal(r.stderr, "", `ip ${line}`);
  return r.stdout;
}

test("ip addr show counts finite lifetimes down and flags dynamic/deprecated addresses", async () => {
  const kernel = goldenKernel("#!ipv6\n");
  await ip(kernel, "link add d0 address 02:00:00:00:00:02 type veth peer name d1 address 02:00:00:00:00:01");
  await ip(kernel, "link set d0 addrgenmode none");
  await ip(kernel, "link set d0 up");
  await ip(kernel, "link set d1 up");
  await ip(kernel, "addr add 10.9.0.1/24 dev d0 valid_lft 100 preferred_lft 50");
  await ip(kernel, "addr add 10.9.1.1/24 dev d0 valid_lft 100 preferred_lft 0");
  await ip(kernel, "-6 addr add 2001:db8::5/64 dev d0 nodad valid_lft 100 preferred_lft 50");
  const head =
    "3: d0@d1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000\n" +
    "    link/ether 02:00:00:00:00:02 brd ff:ff:ff:ff:ff:ff\n";
  const show = (v: number, p: number, p0: number) =>
    head +
    "    inet 10.9.0.1/24 scope global dynamic d0\n" +
    `       valid_lft ${v}sec preferred_lft ${p}sec\n` +
    "    inet 10.9.1.1/24 scope global deprecated dynamic d0\n" +
    `       valid_lft ${v}sec preferred_lft ${p0}sec\n` +
    "    inet6 2001:db8::5/64 scope global nodad dynamic \n" +
    `       valid_lft ${v}sec preferred_lft ${p}sec\n`;
  assert.equal(await ip(kernel, "addr show dev d0"), show(100, 50, 0));
  assert.equal(
    await ip(kernel, "-j -4 addr show dev d0"),
    '[{"ifindex":3,"link":"d1","ifname":"d0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,' +
      '"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"addr_info":[' +
      '{"family":"inet","local":"10.9.0.1","prefixlen":24,"scope":"global","dynamic":true,"label":"d0",' +
      '"valid_life_time":100,"preferred_life_time":50},' +
      '{"family":"inet","local":"10.9.1.1","prefixlen":24,"scope":"global","deprecated":true,"dynamic":true,' +
      '"label":"d0","valid_life_time":100,"preferred_life_time":0}]}]\n',
  );
  kernel.loop.runUntil(kernel.now + 30_000_000_000n);
  assert.equal(await ip(kernel, "addr show dev d0"), show(70, 20, 0));
  assert.equal(await ip(kernel, "-4 addr show dev d0 dynamic"), await ip(kernel, "-4 addr show dev d0"));
  assert.equal(await ip(kernel, "-4 addr show dev d0 permanent"), "");
  kernel.loop.runUntil(kernel.now + 71_000_000_000n);
  assert.equal(await ip(kernel, "addr show dev d0"), head);
});
