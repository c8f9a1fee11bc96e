/**
 * The master port: an AF_PACKET socket bound to the master interface with PACKET_VNET_HDR, so
 * received frames carry the virtio-net header the TAPs accept (checksum-partial and GSO frames
 * from a veth master cross intact, pitfall 1) and transmitted frames may be 64 KiB GSO segments.
 *
 * Three receive paths, selected by {@link RxMode}, measured on the development VM (2 vCPU
 * Firecracker guest, Linux 6.18, Node 20, load average 10-17 from other tenants) with
 * `node dist/bench/real.bench.js --rounds 3`; ranges over two such runs (medians of 3 rounds):
 *
 *   path        receive cost per 64 B frame   ping ns0->router median   TCP ns0->router   UDP 64 B
 *   tpacket-v2      74-484 ns                     59-81 µs               2.0-2.9 Gbit/s    17-23 kpps
 *   tpacket-v3      96-106 ns                   828-873 µs               1.8-2.3 Gbit/s    13-14 kpps
 *   recvmmsg       480-940 ns                     63-85 µs               2.2-2.5 Gbit/s    14-18 kpps
 *
 * - "tpacket-v2" (default): per-frame mmap ring. One epoll wake-up drains every ready frame
 *   without a receive syscall, and a frame is visible as soon as the kernel wrote it. Each slot
 *   holds a whole 64 KiB GSO frame, so every frame touches a fresh page: cost varies with load.
 * - "tpacket-v3": block ring, the cheapest receive, but the kernel hands a block over only when it
 *   is full or its retire timer (>= 1 ms) fires: at low rates every frame waits for the timer,
 *   which ping shows (+0.8 ms) and request/response traffic would feel. Hence not the default.
 * - "recvmmsg": copies up to `batch` frames per syscall into stable buffers: the costliest.
 * End-to-end throughput differences between the three are within this VM's noise (±30 %): the
 * forwarder spends 5-9 µs of CPU per 64 B frame, mostly in the TAP write and read system calls.
 *
 * PACKET_QDISC_BYPASS stays off by default: it hides transmitted frames from `tcpdump -i master`
 * (pitfall 6), which the kernel driver's frames do not do.
 */
import {
  AF_PACKET,
  ETH_P_ALL,
  htons,
  IOVEC_SIZE,
  MAP_LOCKED,
  MAP_SHARED,
  MAX_FRAME,
  MMSGHDR_SIZE,
  MSG_CONTROL,
  MSG_CONTROLLEN,
  MSG_DONTWAIT,
  MSG_FLAGS,
  MSG_IOV,
  MSG_IOVLEN,
  MSG_LEN,
  MSG_NAME,
  MSG_NAMELEN,
  MSG_TRUNC,
  PACKET_ADD_MEMBERSHIP,
  PACKET_AUXDATA,
  PACKET_IGNORE_OUTGOING,
  PACKET_MR_ALLMULTI,
  PACKET_MR_PROMISC,
  PACKET_QDISC_BYPASS,
  PACKET_RX_RING,
  PACKET_STATISTICS,
  PACKET_VERSION,
  PACKET_VNET_HDR,
  PROT_READ,
  PROT_WRITE,
  SO_ERROR,
  SO_RCVBUFFORCE,
  SO_SNDBUFFORCE,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOCKADDR_LL_SIZE,
  SOL_PACKET,
  SOL_SOCKET,
  TP_STATUS_KERNEL,
  TP_STATUS_USER,
  TP_STATUS_VLAN_VALID,
  TP2_LEN,
  TP2_MAC,
  TP2_SNAPLEN,
  TP2_STATUS,
  TP3_LEN,
  TP3_MAC,
  TP3_NEXT_OFFSET,
  TP3_SNAPLEN,
  TP3_STATUS,
  TPACKET_V2,
  TPACKET_V3,
  TPB_BLOCK_STATUS,
  TPB_NUM_PKTS,
  TPB_OFFSET_TO_FIRST_PKT,
  VNET_HDR_LEN,
} from "./abi.ts";
import { ifIndex, ifMtu } from "./iface.ts";
import {
  allocStable,
  type Buf,
  check,
  freeStable,
  getsockoptBuf,
  lastErrno,
  raw,
  type StableMemory,
  setsockoptBuf,
  setsockoptInt,
  sysMmap,
  sysMunmap,
  sysSocket,
  viewStable,
} from "./libc.ts";
import { type NetnsRef, withNetns } from "./netns.ts";

/** How the master socket receives. */
export type RxMode = "tpacket-v2" | "tpacket-v3" | "recvmmsg";

/** The receive path used when none is asked for (the fastest measured; see the module comment). */
export const DEFAULT_RX_MODE: RxMode = "tpacket-v2";

/** Bit set in a sink's `info` when the frame's 802.1Q tag was stripped into metadata. */
export const RX_VLAN_STRIPPED = 0x100;

/**
 * Receives one frame: `pkt` holds the virtio-net header (when enabled) then the Ethernet frame;
 * it views ring or buffer memory that is reused once the sink returns. `info` is sll_pkttype in
 * the low byte plus {@link RX_VLAN_STRIPPED}.
 */
export type FrameSink = (pkt: Uint8Array, info: number) => void;

/** Options of {@link PacketSocket.open}. */
export interface PacketSocketOptions {
  /** The master interface. */
  readonly ifname: string;
  /** Its namespace (null: the calling thread's). */
  readonly netns?: NetnsRef;
  /** Receive path (default {@link DEFAULT_RX_MODE}). */
  readonly rx?: RxMode;
  /** PACKET_VNET_HDR (default true). */
  readonly vnetHdr?: boolean;
  /** PACKET_IGNORE_OUTGOING: do not see frames the master transmits (default true). */
  readonly ignoreOutgoing?: boolean;
  /** PACKET_QDISC_BYPASS (default false, pitfall 6). */
  readonly qdiscBypass?: boolean;
  /** PACKET_MR_ALLMULTI on the master, as ipvlan relays slaves' multicast interest (default true). */
  readonly allmulti?: boolean;
  /** PACKET_MR_PROMISC on the master (default false). */
  readonly promisc?: boolean;
  /** Ring: number of blocks (v2 default 16 blocks of 1 MiB = 240 frames; v3 default 64 of 256 KiB). */
  readonly ringBlocks?: number;
  /** Ring: block size in bytes, a power of two pages. */
  readonly ringBlockSize?: number;
  /** TPACKET_V3 block retire timeout in ms (default 1, the smallest). */
  readonly retireTovMs?: number;
  /** recvmmsg: frames per call (default 64). */
  readonly batch?: number;
  /** SO_RCVBUFFORCE / SO_SNDBUFFORCE in bytes (default 4 MiB each). */
  readonly bufBytes?: number;
}

/** Kernel counters of the socket (PACKET_STATISTICS; reading resets them). */
export interface PacketStats {
  /** Frames the socket accepted. */
  readonly packets: number;
  /** Frames dropped because the ring or queue was full. */
  readonly drops: number;
}

interface Receiver {
  receive(sink: FrameSink, budget: number): number;
  /** Frames dropped because they did not fit (a ring slot, a buffer). */
  readonly truncated: number;
  close(): void;
}

/** An AF_PACKET SOCK_RAW socket bound to one interface. */
export class PacketSocket {
  /** The socket fd (non-blocking, close-on-exec). */
  readonly fd: number;
  /** Interface name and index in its namespace. */
  readonly ifname: string;
  readonly ifindex: number;
  /** The interface's MTU when the socket was opened. */
  readonly mtu: number;
  /** Receive path in use. */
  readonly rxMode: RxMode;
  /** Whether frames carry the 10-byte virtio-net header in both directions. */
  readonly vnetHdr: boolean;
  readonly #rx: Receiver;
  #closed = false;

  private constructor(
    fd: number,
    ifname: string,
    ifindex: number,
    mtu: number,
    mode: RxMode,
    vnet: boolean,
    rx: Receiver,
  ) {
    this.fd = fd;
    this.ifname = ifname;
    this.ifindex = ifindex;
    this.mtu = mtu;
    this.rxMode = mode;
    this.vnetHdr = vnet;
    this.#rx = rx;
  }

  /** Opens and binds the socket inside the master's namespace. */
  static open(options: PacketSocketOptions): PacketSocket {
    return withNetns(options.netns ?? null, () => PacketSocket.#openHere(options));
  }

  static #openHere(o: PacketSocketOptions): PacketSocket {
    const mode = o.rx ?? DEFAULT_RX_MODE;
    const vnet = o.vnetHdr ?? true;
    const ifindex = ifIndex(o.ifname);
    const mtu = ifMtu(o.ifname);
    // Protocol 0 receives nothing until bind() names the interface and ETH_P_ALL.
    const fd = sysSocket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    let rx: Receiver | undefined;
    try {
      const what = (opt: string) => `set ${opt} on the packet socket of "${o.ifname}"`;
      const buf = o.bufBytes ?? 4 << 20;
      setsockoptInt(fd, SOL_SOCKET, SO_RCVBUFFORCE, buf, what("SO_RCVBUFFORCE"));
      setsockoptInt(fd, SOL_SOCKET, SO_SNDBUFFORCE, buf, what("SO_SNDBUFFORCE"));
      // Must precede the ring (EBUSY afterwards).
      if (vnet) setsockoptInt(fd, SOL_PACKET, PACKET_VNET_HDR, 1, what("PACKET_VNET_HDR"));
      if (o.ignoreOutgoing ?? true)
        setsockoptInt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1, what("PACKET_IGNORE_OUTGOING"));
      if (o.qdiscBypass ?? false)
        setsockoptInt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, 1, what("PACKET_QDISC_BYPASS"));
      if (mode === "tpacket-v3") rx = RingV3.setup(fd, o, what);
      else if (mode === "tpacket-v2") rx = RingV2.setup(fd, o, what);
      else {
        setsockoptInt(fd, SOL_PACKET, PACKET_AUXDATA, 1, what("PACKET_AUXDATA"));
        rx = new MmsgReceiver(fd, o.batch ?? 64, vnet);
      }
      if (o.allmulti ?? true) addMembership(fd, ifindex, PACKET_MR_ALLMULTI, what("PACKET_MR_ALLMULTI"));
      if (o.promisc ?? false) addMembership(fd, ifindex, PACKET_MR_PROMISC, what("PACKET_MR_PROMISC"));
      const sll = new Uint8Array(SOCKADDR_LL_SIZE);
      const v = new DataView(sll.buffer);
      v.setUint16(0, AF_PACKET, true);
      v.setUint16(2, htons(ETH_P_ALL), true);
      v.setInt32(4, ifindex, true);
      check(raw.bind(fd, sll, SOCKADDR_LL_SIZE), `bind the packet socket to "${o.ifname}"`);
      return new PacketSocket(fd, o.ifname, ifindex, mtu, mode, vnet, rx);
    } catch (e) {
      rx?.close();
      raw.close(fd);
      throw e;
    }
  }

  /**
   * Hands every frame ready now (up to about `budget`; a v3 block is always finished) to `sink`;
   * returns how many it handed over. Never blocks, never throws on the data path.
   */
  receive(sink: FrameSink, budget = 1 << 30): number {
    return this.#rx.receive(sink, budget);
  }

  /** Transmits one frame (virtio-net header first when enabled); returns the length or -errno. */
  send(buf: Buf, len: number): number {
    const n = raw.send(this.fd, buf, len, MSG_DONTWAIT);
    return n < 0 ? -lastErrno() : n;
  }

  /** Reads and clears the socket's pending error (SO_ERROR); 0 when none. */
  takeError(): number {
    const b = new Uint8Array(4);
    getsockoptBuf(this.fd, SOL_SOCKET, SO_ERROR, b, "read SO_ERROR");
    return new DataView(b.buffer).getInt32(0, true);
  }

  /** Frames dropped on receive because they were truncated (ring slot or buffer too small). */
  get truncated(): number {
    return this.#rx.truncated;
  }

  /** PACKET_STATISTICS (the kernel resets them on each read). */
  stats(): PacketStats {
    const b = new Uint8Array(12);
    getsockoptBuf(this.fd, SOL_PACKET, PACKET_STATISTICS, b, "read PACKET_STATISTICS");
    const v = new DataView(b.buffer);
    return { packets: v.getUint32(0, true), drops: v.getUint32(4, true) };
  }

  /** Closes the socket and unmaps its ring. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rx.close();
    raw.close(this.fd);
  }
}

function addMembership(fd: number, ifindex: number, type: number, what: string): void {
  // struct packet_mreq { int mr_ifindex; unsigned short mr_type, mr_alen; unsigned char mr_address[8]; }
  const m = new Uint8Array(16);
  const v = new DataView(m.buffer);
  v.setInt32(0, ifindex, true);
  v.setUint16(4, type, true);
  setsockoptBuf(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, m, what);
}

function mapRing(fd: number, len: number): StableMemory {
  let addr: bigint;
  try {
    addr = sysMmap(fd, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED);
  } catch {
    // MAP_LOCKED needs RLIMIT_MEMLOCK room; an unlocked ring works the same, only may page.
    addr = sysMmap(fd, len, PROT_READ | PROT_WRITE, MAP_SHARED);
  }
  return viewStable(addr, len);
}

/** TPACKET_V3: variable-size frames packed into blocks that are handed over whole. */
class RingV3 implements Receiver {
  readonly #mem: StableMemory;
  readonly #blockSize: number;
  readonly #blocks: number;
  readonly #vnet: number;
  #block = 0;
  truncated = 0;

  private constructor(mem: StableMemory, blockSize: number, blocks: number, vnet: boolean) {
    this.#mem = mem;
    this.#blockSize = blockSize;
    this.#blocks = blocks;
    this.#vnet = vnet ? VNET_HDR_LEN : 0;
  }

  static setup(fd: number, o: PacketSocketOptions, what: (opt: string) => string): RingV3 {
    const blockSize = o.ringBlockSize ?? 1 << 18;
    const blocks = o.ringBlocks ?? 64;
    setsockoptInt(fd, SOL_PACKET, PACKET_VERSION, TPACKET_V3, what("PACKET_VERSION=TPACKET_V3"));
    // struct tpacket_req3: block_size, block_nr, frame_size, frame_nr, retire_blk_tov, sizeof_priv, feature_req_word
    const req = new Uint32Array([
      blockSize,
      blocks,
      2048,
      (blockSize / 2048) * blocks,
      o.retireTovMs ?? 1,
      0,
      0,
    ]);
    setsockoptBuf(fd, SOL_PACKET, PACKET_RX_RING, new Uint8Array(req.buffer), what("PACKET_RX_RING (v3)"));
    return new RingV3(mapRing(fd, blockSize * blocks), blockSize, blocks, o.vnetHdr ?? true);
  }

  receive(sink: FrameSink, budget: number): number {
    const { bytes, view } = this.#mem;
    let done = 0;
    while (done < budget) {
      const base = this.#block * this.#blockSize;
      if ((view.getUint32(base + TPB_BLOCK_STATUS, true) & TP_STATUS_USER) === 0) break;
      const n = view.getUint32(base + TPB_NUM_PKTS, true);
      let off = base + view.getUint32(base + TPB_OFFSET_TO_FIRST_PKT, true);
      for (let i = 0; i < n; i++) {
        const mac = off + view.getUint16(off + TP3_MAC, true);
        const snap = view.getUint32(off + TP3_SNAPLEN, true);
        const status = view.getUint32(off + TP3_STATUS, true);
        if (snap !== view.getUint32(off + TP3_LEN, true)) this.truncated++;
        else {
          // sockaddr_ll follows the 48-byte tpacket3_hdr; sll_pkttype is its byte 10.
          const info = bytes[off + 48 + 10] | (status & TP_STATUS_VLAN_VALID ? RX_VLAN_STRIPPED : 0);
          sink(bytes.subarray(mac - this.#vnet, mac + snap), info);
        }
        off += view.getUint32(off + TP3_NEXT_OFFSET, true);
      }
      done += n;
      view.setUint32(base + TPB_BLOCK_STATUS, TP_STATUS_KERNEL, true);
      this.#block = (this.#block + 1) % this.#blocks;
    }
    return done;
  }

  close(): void {
    sysMunmap(this.#mem.addr, this.#blockSize * this.#blocks);
  }
}

/** TPACKET_V2: fixed-size frame slots, each handed over as soon as it is written. */
class RingV2 implements Receiver {
  readonly #mem: StableMemory;
  readonly #len: number;
  readonly #vnet: number;
  /** Byte offset of every slot (frames never straddle blocks). */
  readonly #slots: Int32Array;
  #frame = 0;
  truncated = 0;

  private constructor(mem: StableMemory, len: number, slots: Int32Array, vnet: boolean) {
    this.#mem = mem;
    this.#len = len;
    this.#slots = slots;
    this.#vnet = vnet ? VNET_HDR_LEN : 0;
  }

  static setup(fd: number, o: PacketSocketOptions, what: (opt: string) => string): RingV2 {
    // A slot holds tpacket2_hdr + sockaddr_ll + virtio-net header + a 64 KiB GSO frame.
    const frameSize = roundUp(MAX_FRAME + 256, 4096);
    const blockSize = o.ringBlockSize ?? 1 << 20;
    const blocks = o.ringBlocks ?? 16;
    const perBlock = Math.floor(blockSize / frameSize);
    if (perBlock < 1)
      throw new RangeError(`Cannot use a ${blockSize}-byte block: a frame slot needs ${frameSize}`);
    setsockoptInt(fd, SOL_PACKET, PACKET_VERSION, TPACKET_V2, what("PACKET_VERSION=TPACKET_V2"));
    const req = new Uint32Array([blockSize, blocks, frameSize, perBlock * blocks]);
    setsockoptBuf(fd, SOL_PACKET, PACKET_RX_RING, new Uint8Array(req.buffer), what("PACKET_RX_RING (v2)"));
    const slots = new Int32Array(perBlock * blocks);
    for (let b = 0; b < blocks; b++)
      for (let j = 0; j < perBlock; j++) slots[b * perBlock + j] = b * blockSize + j * frameSize;
    const len = blockSize * blocks;
    return new RingV2(mapRing(fd, len), len, slots, o.vnetHdr ?? true);
  }

  receive(sink: FrameSink, budget: number): number {
    const { bytes, view } = this.#mem;
    const slots = this.#slots;
    let done = 0;
    while (done < budget) {
      const off = slots[this.#frame];
      const status = view.getUint32(off + TP2_STATUS, true);
      if ((status & TP_STATUS_USER) === 0) break;
      const mac = off + view.getUint16(off + TP2_MAC, true);
      const snap = view.getUint32(off + TP2_SNAPLEN, true);
      if (snap !== view.getUint32(off + TP2_LEN, true)) this.truncated++;
      else {
        // sockaddr_ll follows the 32-byte tpacket2_hdr; sll_pkttype is its byte 10.
        const info = bytes[off + 32 + 10] | (status & TP_STATUS_VLAN_VALID ? RX_VLAN_STRIPPED : 0);
        sink(bytes.subarray(mac - this.#vnet, mac + snap), info);
      }
      view.setUint32(off + TP2_STATUS, TP_STATUS_KERNEL, true);
      this.#frame = this.#frame + 1 === slots.length ? 0 : this.#frame + 1;
      done++;
    }
    return done;
  }

  close(): void {
    sysMunmap(this.#mem.addr, this.#len);
  }
}

/** recvmmsg(2) into stable per-frame buffers, with PACKET_AUXDATA for the VLAN status. */
class MmsgReceiver implements Receiver {
  readonly #fd: number;
  readonly #batch: number;
  readonly #slotSize: number;
  readonly #ctlSize = 64;
  /** mmsghdr array, then per slot: iovec, sockaddr_ll (pad 24), control (64), frame. */
  readonly #mem: StableMemory;
  truncated = 0;

  constructor(fd: number, batch: number, vnet: boolean) {
    this.#fd = fd;
    this.#batch = batch;
    this.#slotSize = roundUp((vnet ? VNET_HDR_LEN : 0) + MAX_FRAME, 64);
    const per = IOVEC_SIZE + 24 + this.#ctlSize + this.#slotSize;
    this.#mem = allocStable(batch * MMSGHDR_SIZE + batch * per);
    const v = this.#mem.view;
    const a = this.#mem.addr;
    for (let i = 0; i < batch; i++) {
      const h = i * MMSGHDR_SIZE;
      const s = batch * MMSGHDR_SIZE + i * per;
      const iov = s;
      const name = s + IOVEC_SIZE;
      const ctl = name + 24;
      const data = ctl + this.#ctlSize;
      v.setBigUint64(iov, a + BigInt(data), true);
      v.setBigUint64(iov + 8, BigInt(this.#slotSize), true);
      v.setBigUint64(h + MSG_NAME, a + BigInt(name), true);
      v.setUint32(h + MSG_NAMELEN, SOCKADDR_LL_SIZE, true);
      v.setBigUint64(h + MSG_IOV, a + BigInt(iov), true);
      v.setBigUint64(h + MSG_IOVLEN, 1n, true);
      v.setBigUint64(h + MSG_CONTROL, a + BigInt(ctl), true);
    }
  }

  receive(sink: FrameSink, budget: number): number {
    const { bytes, view, addr } = this.#mem;
    const batch = this.#batch;
    const per = IOVEC_SIZE + 24 + this.#ctlSize + this.#slotSize;
    let done = 0;
    while (done < budget) {
      for (let i = 0; i < batch; i++) {
        const h = i * MMSGHDR_SIZE;
        view.setUint32(h + MSG_NAMELEN, SOCKADDR_LL_SIZE, true);
        view.setUint32(h + MSG_CONTROLLEN, this.#ctlSize, true);
        view.setUint32(h + MSG_CONTROLLEN + 4, 0, true);
      }
      const n = raw.recvmmsg(this.#fd, addr, batch, MSG_DONTWAIT, null);
      if (n <= 0) break;
      for (let i = 0; i < n; i++) {
        const h = i * MMSGHDR_SIZE;
        const s = batch * MMSGHDR_SIZE + i * per;
        const name = s + IOVEC_SIZE;
        const ctl = name + 24;
        const data = ctl + this.#ctlSize;
        const len = view.getUint32(h + MSG_LEN, true);
        if (view.getInt32(h + MSG_FLAGS, true) & MSG_TRUNC) {
          this.truncated++;
          continue;
        }
        let info = bytes[name + 10];
        // cmsghdr { u64 len; i32 level; i32 type } then tpacket_auxdata { u32 tp_status ... }
        if (
          view.getUint32(h + MSG_CONTROLLEN, true) >= 16 + 4 &&
          view.getInt32(ctl + 8, true) === SOL_PACKET
        ) {
          if (view.getUint32(ctl + 16, true) & TP_STATUS_VLAN_VALID) info |= RX_VLAN_STRIPPED;
        }
        sink(bytes.subarray(data, data + len), info);
      }
      done += n;
      if (n < batch) break;
    }
    return done;
  }

  close(): void {
    freeStable(this.#mem);
  }
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
