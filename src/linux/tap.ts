/**
 * TAP devices as slave ports: frames the slave's stack sends come out of `read()`, frames the
 * data plane delivers go in with `write()`, each prefixed by the 10-byte virtio-net header
 * (IFF_VNET_HDR) that carries checksum-offload and GSO state, so 64 KiB TCP segments cross the
 * data plane whole (pitfall 1). TAPs are persistent (TUNSETPERSIST) so that they, their
 * addresses and routes survive a data-plane restart; a restarted data plane re-attaches from
 * inside the TAP's current namespace (pitfall 5).
 */
import type { MacAddr } from "../wire/index.ts";
import {
  IFF_NO_PI,
  IFF_TAP,
  IFF_VNET_HDR,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDWR,
  TUN_F_CSUM,
  TUN_F_TSO_ECN,
  TUN_F_TSO4,
  TUN_F_TSO6,
  TUNGETDEVNETNS,
  TUNGETIFF,
  TUNSETCARRIER,
  TUNSETIFF,
  TUNSETOFFLOAD,
  TUNSETOWNER,
  TUNSETPERSIST,
  TUNSETVNETHDRSZ,
  VNET_HDR_LEN,
} from "./abi.ts";
import { errnoError } from "./errors.ts";
import { ifExists, ifIndex, ifreq, ifreqName, ifSetHwaddr, ifSetMtu, ifSetUp } from "./iface.ts";
import { type Buf, check, ioctlPtr, ioctlVal, lastErrno, raw, sysClose, sysOpen } from "./libc.ts";
import { type NetnsRef, withNetns, withNetnsFd } from "./netns.ts";

/** The offloads a TAP slave accepts by default: checksum offload and TCP segmentation (v4, v6, ECN). */
export const TAP_DEFAULT_OFFLOADS = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;

const TUN_PATH = "/dev/net/tun";

/** How to create a TAP. */
export interface TapCreateOptions {
  /** Interface name (1-15 bytes); must not exist yet in `netns`. */
  readonly name: string;
  /** Namespace to create it in (null: the calling thread's). */
  readonly netns?: NetnsRef;
  /** Link-layer address: the master's, as ipvlan slaves share it. */
  readonly mac?: MacAddr;
  /** MTU: the master's (pitfall 3). */
  readonly mtu?: number;
  /** TUN_F_* offloads (default {@link TAP_DEFAULT_OFFLOADS}; 0 disables them). */
  readonly offloads?: number;
  /** Keep the device when the fd closes (default true). */
  readonly persist?: boolean;
  /** Bring the interface up (default true). */
  readonly up?: boolean;
}

/** How to re-attach to an existing persistent TAP. */
export interface TapAttachOptions {
  /** Interface name. */
  readonly name: string;
  /** The namespace the TAP lives in now (it may have been moved since creation). */
  readonly netns?: NetnsRef;
  /** TUN_F_* offloads (default {@link TAP_DEFAULT_OFFLOADS}). */
  readonly offloads?: number;
}

/** An open TAP device: a non-blocking fd exchanging virtio-net-header-prefixed Ethernet frames. */
export class Tap {
  /** The file descriptor (non-blocking, close-on-exec). */
  readonly fd: number;
  /** Interface name. */
  readonly name: string;
  /** The namespace it was opened in. */
  readonly netns: NetnsRef;
  #closed = false;

  private constructor(fd: number, name: string, netns: NetnsRef) {
    this.fd = fd;
    this.name = name;
    this.netns = netns;
  }

  /** Creates a TAP (EEXIST if the name is taken: TUNSETIFF would silently attach to it). */
  static create(options: TapCreateOptions): Tap {
    const netns = options.netns ?? null;
    return withNetns(netns, () => {
      if (ifExists(options.name)) throw errnoError(17, `create TAP "${options.name}": the name exists`);
      const tap = Tap.#open(options.name, netns, options.offloads ?? TAP_DEFAULT_OFFLOADS);
      try {
        if (options.persist ?? true) tap.setPersist(true);
        if (options.mac !== undefined) ifSetHwaddr(tap.name, options.mac, tap.fd);
        if (options.mtu !== undefined) ifSetMtu(tap.name, options.mtu);
        if (options.up ?? true) ifSetUp(tap.name, true);
      } catch (e) {
        tap.destroy();
        throw e;
      }
      return tap;
    });
  }

  /**
   * Attaches to an existing persistent TAP from inside its namespace (ENODEV when there is none
   * there: TUNSETIFF would otherwise create a new, unrelated TAP — pitfall 5).
   */
  static attach(options: TapAttachOptions): Tap {
    const netns = options.netns ?? null;
    return withNetns(netns, () => {
      ifIndex(options.name); // ENODEV when absent
      return Tap.#open(options.name, netns, options.offloads ?? TAP_DEFAULT_OFFLOADS);
    });
  }

  static #open(name: string, netns: NetnsRef, offloads: number): Tap {
    const fd = sysOpen(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    try {
      const req = ifreq(name);
      new DataView(req.buffer).setUint16(16, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, true);
      ioctlPtr(fd, TUNSETIFF, req, `attach TAP "${name}" (TUNSETIFF)`);
      const actual = ifreqName(req);
      const hdr = new Int32Array([VNET_HDR_LEN]);
      ioctlPtr(fd, TUNSETVNETHDRSZ, new Uint8Array(hdr.buffer), `set the vnet header size of "${actual}"`);
      ioctlVal(fd, TUNSETOFFLOAD, offloads, `set offloads 0x${offloads.toString(16)} on "${actual}"`);
      return new Tap(fd, actual, netns);
    } catch (e) {
      raw.close(fd);
      throw e;
    }
  }

  /** TUNSETPERSIST. */
  setPersist(persist: boolean): void {
    ioctlVal(this.fd, TUNSETPERSIST, persist ? 1 : 0, `set persist=${persist} on "${this.name}"`);
  }

  /** TUNSETOWNER: lets `uid` attach to the persistent TAP without CAP_NET_ADMIN. */
  setOwner(uid: number): void {
    ioctlVal(this.fd, TUNSETOWNER, uid, `set the owner of "${this.name}" to ${uid}`);
  }

  /** TUNGETIFF: the flags the device was attached with (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR ...). */
  flags(): number {
    const req = new Uint8Array(40);
    ioctlPtr(this.fd, TUNGETIFF, req, `get the flags of "${this.name}"`);
    return new DataView(req.buffer).getUint16(16, true);
  }

  /** TUNSETCARRIER: the slave's carrier follows the master's (netif_stacked_transfer_operstate). */
  setCarrier(on: boolean): void {
    const v = new Int32Array([on ? 1 : 0]);
    ioctlPtr(
      this.fd,
      TUNSETCARRIER,
      new Uint8Array(v.buffer),
      `set carrier ${on ? "on" : "off"} on "${this.name}"`,
    );
  }

  /** SIOCSIFHWADDR through the tun fd (works wherever the TAP lives now): follows the master's MAC. */
  setMac(mac: MacAddr): void {
    ifSetHwaddr(this.name, mac, this.fd);
  }

  /**
   * Runs `fn` inside the namespace the TAP lives in now (TUNGETDEVNETNS), wherever it was moved:
   * interface ioctls by name need a socket there (pitfall 8).
   */
  inItsNetns<T>(fn: () => T): T {
    const nsfd = check(raw.ioctlVal(this.fd, TUNGETDEVNETNS, 0), `find the namespace of "${this.name}"`);
    try {
      return withNetnsFd(nsfd, fn, `of "${this.name}"`);
    } finally {
      raw.close(nsfd);
    }
  }

  /** SIOCSIFMTU in the TAP's current namespace: slaves follow the master's MTU (pitfall 3). */
  setMtu(mtu: number): void {
    this.inItsNetns(() => ifSetMtu(this.name, mtu));
  }

  /** TUNSETOFFLOAD. */
  setOffloads(offloads: number): void {
    ioctlVal(this.fd, TUNSETOFFLOAD, offloads, `set offloads on "${this.name}"`);
  }

  /**
   * Reads one frame (virtio-net header + Ethernet frame) into `buf`; returns its length, or -errno
   * (-EAGAIN when none is queued). Data path: never throws.
   */
  read(buf: Buf, capacity: number): number {
    const n = raw.read(this.fd, buf, capacity);
    return n < 0 ? -lastErrno() : n;
  }

  /** Writes one frame (virtio-net header + Ethernet frame); returns the length or -errno. */
  write(buf: Buf, len: number): number {
    const n = raw.write(this.fd, buf, len);
    return n < 0 ? -lastErrno() : n;
  }

  /** Closes the fd; a persistent TAP stays (down carrier), a non-persistent one disappears. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    sysClose(this.fd);
  }

  /** Clears persistence and closes: the device is gone afterwards. */
  destroy(): void {
    if (this.#closed) return;
    try {
      this.setPersist(false);
    } finally {
      this.close();
    }
  }

  /** Whether {@link close} ran. */
  get closed(): boolean {
    return this.#closed;
  }
}

/**
 * Deletes a persistent TAP without holding it: attach, clear persistence, close.
 * ENODEV when absent.
 */
export function destroyTap(name: string, netns: NetnsRef = null): void {
  Tap.attach({ name, netns }).destroy();
}
