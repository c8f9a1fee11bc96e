/**
 * The HOWTO topology of the oracle scenarios on a simulated kernel with the IPv4 stack:
 *
 *   ns0 [ipvl0 10.0.0.10] --+
 *                            +-- eth0 (master, root ns, 10.0.0.2) ==veth== ext0 [ns ext, 10.0.0.1]
 *   ns1 [ipvl1 10.0.0.11] --+
 *
 * built with the same steps as modes-matrix.sh (fixed MACs), and an in-kernel `ping -c1 -W1`.
 */
import {
  bootKernel,
  devChangeNetNamespace,
  devOpen,
  fibRouteAdd,
  inetAddrAdd,
  ipv4Init,
  type Kernel,
  NSEC_PER_SEC,
  type NetDevice,
  type NetNamespace,
  NUD,
  neighAdd,
  neighTableGet,
  netnsAdd,
  pingSocket,
  rtnlNewLink,
} from "../../src/kernel/index.ts";
import { type IpvlDev, ipvlanInit } from "../../src/ipvlan/index.ts";
import { parseIpv4, parseMac } from "../../src/wire/index.ts";

/** eth0's MAC. */
export const MAC_M = parseMac("02:00:00:00:00:02");
/** ext0's MAC. */
export const MAC_R = parseMac("02:00:00:00:00:01");
/** The router (ext0). */
export const ROUTER = parseIpv4("10.0.0.1");

const MODE: Record<string, number> = { l2: 0, l3: 1, l3s: 2 };
const FLAG: Record<string, number> = { bridge: 0, private: 1, vepa: 2 };

/** The built topology. */
export interface Howto {
  readonly k: Kernel;
  readonly root: NetNamespace;
  readonly ext: NetNamespace;
  readonly ns0: NetNamespace;
  readonly ns1: NetNamespace;
  readonly eth0: NetDevice;
  readonly ext0: NetDevice;
  readonly ipvl0: IpvlDev;
  readonly ipvl1: IpvlDev;
}

function macBytes(mac: number): Uint8Array {
  const b = new Uint8Array(6);
  for (let i = 5, m = mac; i >= 0; i--, m = Math.floor(m / 256)) b[i] = m % 256;
  return b;
}

/** setup "MODE [FLAG]" of modes-matrix.sh. */
export function howto(modeText: string, extraInit?: (k: Kernel) => void): Howto {
  const [mode, flag] = modeText.split(" ");
  const k = bootKernel({ seed: 3 });
  ipv4Init(k);
  ipvlanInit(k);
  extraInit?.(k);
  const root = k.initNet;
  // The host's own lo is up, as after boot.
  devOpen(root.loopback);
  const ext = netnsAdd(k, "ext");
  const eth0 = rtnlNewLink(root, {
    kind: "veth",
    name: "eth0",
    address: macBytes(MAC_M),
    peer: { name: "ext0", address: macBytes(MAC_R) },
  });
  const ext0 = root.dev("ext0")!;
  devChangeNetNamespace(ext0, ext);
  devOpen(ext.loopback);
  inetAddrAdd(ext0, { local: ROUTER, prefixLen: 24 });
  devOpen(ext0);
  devOpen(eth0);
  inetAddrAdd(eth0, { local: parseIpv4("10.0.0.2"), prefixLen: 24 });
  const ns0 = netnsAdd(k, "ns0");
  const ns1 = netnsAdd(k, "ns1");
  const infoData = { mode: MODE[mode], flags: FLAG[flag ?? "bridge"] };
  const ipvl0 = rtnlNewLink(root, { kind: "ipvlan", name: "ipvl0", link: eth0, infoData }) as IpvlDev;
  const ipvl1 = rtnlNewLink(root, { kind: "ipvlan", name: "ipvl1", link: eth0, infoData }) as IpvlDev;
  devChangeNetNamespace(ipvl0, ns0);
  devChangeNetNamespace(ipvl1, ns1);
  for (const [i, dev, net] of [
    [0, ipvl0, ns0],
    [1, ipvl1, ns1],
  ] as const) {
    devOpen(dev);
    devOpen(net.loopback);
    inetAddrAdd(dev, { local: parseIpv4(`10.0.0.1${i}`), prefixLen: 24 });
    fibRouteAdd(net, { dst: 0, dstLen: 0, gw: ROUTER, dev });
  }
  k.loop.runUntil(k.now + NSEC_PER_SEC);
  return { k, root, ext, ns0, ns1, eth0, ext0, ipvl0, ipvl1 };
}

/** `ping -c1 -W1 DST` from a namespace: true when the echo reply arrives within a second. */
export function ping(k: Kernel, net: NetNamespace, dst: string): boolean {
  const sock = pingSocket(net);
  let got = false;
  sock.onReply = () => {
    got = true;
  };
  const r = sock.send(parseIpv4(dst), 1, new Uint8Array(56));
  if (r === 0) k.loop.runUntilDone(() => got, k.now + NSEC_PER_SEC);
  sock.close();
  k.loop.runUntil(k.now + NSEC_PER_SEC / 10n);
  return got;
}

/** `ip -n ext neigh replace IP lladdr MAC dev ext0 nud permanent`. */
export function staticNeigh(t: Howto, ip: string, mac: number): void {
  const table = neighTableGet(t.ext, 4)!;
  neighAdd(table, {
    dev: t.ext0,
    key: parseIpv4(ip),
    lladdr: mac,
    state: NUD.PERMANENT,
    nl: { create: true, replace: true },
  });
}
