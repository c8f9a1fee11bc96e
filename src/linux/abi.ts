/**
 * Constants and structure layouts of the Linux user ABI (x86_64) the real backend uses:
 * open/ioctl flags, TUN/TAP and interface ioctls, AF_PACKET options and ring headers, epoll,
 * virtio-net header. Values from the uapi headers named in each group.
 */

// <fcntl.h>, <sys/mman.h>, <sys/eventfd.h>, <sched.h>
/** open(2) flags. */
export const O_RDWR = 0o2;
export const O_RDONLY = 0o0;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
/** mmap(2) protection and flags. */
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const MAP_SHARED = 0x1;
export const MAP_LOCKED = 0x2000;
/** eventfd(2) flags. */
export const EFD_NONBLOCK = 0o4000;
export const EFD_CLOEXEC = 0o2000000;
/** setns(2) namespace type for network namespaces. */
export const CLONE_NEWNET = 0x40000000;

// <linux/if_tun.h>
/** TUNSETIFF = _IOW('T', 202, int): attach the fd to (or create) a TUN/TAP device. */
export const TUNSETIFF = 0x400454ca;
/** TUNSETPERSIST = _IOW('T', 203, int): keep the device when the last fd closes. */
export const TUNSETPERSIST = 0x400454cb;
/** TUNSETOWNER = _IOW('T', 204, int): uid allowed to attach. */
export const TUNSETOWNER = 0x400454cc;
/** TUNGETFEATURES = _IOR('T', 207, unsigned int): IFF_* flags the driver supports. */
export const TUNGETFEATURES = 0x800454cf;
/** TUNSETOFFLOAD = _IOW('T', 208, unsigned int): offloads the reader accepts (TUN_F_*). */
export const TUNSETOFFLOAD = 0x400454d0;
/** TUNGETIFF = _IOR('T', 210, unsigned int): name and flags of the attached device. */
export const TUNGETIFF = 0x800454d2;
/** TUNGETVNETHDRSZ = _IOR('T', 215, int). */
export const TUNGETVNETHDRSZ = 0x800454d7;
/** TUNSETVNETHDRSZ = _IOW('T', 216, int). */
export const TUNSETVNETHDRSZ = 0x400454d8;
/** TUNSETCARRIER = _IOW('T', 226, int): carrier on/off (to mirror the master's carrier). */
export const TUNSETCARRIER = 0x400454e2;
/** TUNGETDEVNETNS = _IO('T', 227): an fd of the namespace the device lives in now. */
export const TUNGETDEVNETNS = 0x54e3;
/** TUNSETIFF flags. */
export const IFF_TUN = 0x0001;
export const IFF_TAP = 0x0002;
export const IFF_NAPI = 0x0010;
export const IFF_NO_PI = 0x1000;
export const IFF_VNET_HDR = 0x4000;
export const IFF_MULTI_QUEUE = 0x0100;
/** TUNSETOFFLOAD bits. */
export const TUN_F_CSUM = 0x01;
export const TUN_F_TSO4 = 0x02;
export const TUN_F_TSO6 = 0x04;
export const TUN_F_TSO_ECN = 0x08;
export const TUN_F_UFO = 0x10;
export const TUN_F_USO4 = 0x20;
export const TUN_F_USO6 = 0x40;

// <linux/sockios.h>, <linux/if.h>
/** Interface ioctls on any socket (struct ifreq, 40 bytes). */
export const SIOCGIFFLAGS = 0x8913;
export const SIOCSIFFLAGS = 0x8914;
export const SIOCGIFMTU = 0x8921;
export const SIOCSIFMTU = 0x8922;
export const SIOCSIFHWADDR = 0x8924;
export const SIOCGIFHWADDR = 0x8927;
export const SIOCGIFINDEX = 0x8933;
/** sizeof(struct ifreq); IFNAMSIZ. */
export const IFREQ_SIZE = 40;
export const IFNAMSIZ = 16;
/** ARPHRD_ETHER, the sa_family of an Ethernet hardware address. */
export const ARPHRD_ETHER = 1;

// <sys/socket.h>, <linux/if_packet.h>, <linux/if_ether.h>
/** Socket families, types, levels. */
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_PACKET = 17;
export const SOCK_RAW = 3;
export const SOCK_DGRAM = 2;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SOL_PACKET = 263;
export const SO_RCVBUF = 8;
export const SO_ERROR = 4;
export const SO_SNDBUF = 7;
export const SO_RCVBUFFORCE = 33;
export const SO_SNDBUFFORCE = 32;
export const MSG_DONTWAIT = 0x40;
/** ETH_P_ALL: every protocol (host order; sockets want it big-endian). */
export const ETH_P_ALL = 0x0003;
/** AF_PACKET socket options (SOL_PACKET). */
export const PACKET_ADD_MEMBERSHIP = 1;
export const PACKET_RX_RING = 5;
export const PACKET_STATISTICS = 6;
export const PACKET_AUXDATA = 8;
export const PACKET_VERSION = 10;
export const PACKET_RESERVE = 12;
export const PACKET_TX_RING = 13;
export const PACKET_VNET_HDR = 15;
export const PACKET_QDISC_BYPASS = 20;
export const PACKET_IGNORE_OUTGOING = 23;
/** PACKET_ADD_MEMBERSHIP types. */
export const PACKET_MR_PROMISC = 1;
export const PACKET_MR_ALLMULTI = 2;
/** sll_pkttype values. */
export const PACKET_HOST = 0;
export const PACKET_OUTGOING = 4;
/** Ring versions. */
export const TPACKET_V2 = 1;
export const TPACKET_V3 = 2;
/** tp_status bits (frame status on the RX ring). */
export const TP_STATUS_KERNEL = 0;
export const TP_STATUS_USER = 1;
export const TP_STATUS_COPY = 1 << 1;
export const TP_STATUS_LOSING = 1 << 2;
export const TP_STATUS_CSUMNOTREADY = 1 << 3;
export const TP_STATUS_VLAN_VALID = 1 << 4;
export const TP_STATUS_CSUM_VALID = 1 << 7;
/** sizeof(struct sockaddr_ll). */
export const SOCKADDR_LL_SIZE = 20;
/** struct tpacket_block_desc: offset of tpacket_hdr_v1 fields in a V3 block. */
export const TPB_BLOCK_STATUS = 8;
export const TPB_NUM_PKTS = 12;
export const TPB_OFFSET_TO_FIRST_PKT = 16;
/** struct tpacket3_hdr field offsets. */
export const TP3_NEXT_OFFSET = 0;
export const TP3_SNAPLEN = 12;
export const TP3_LEN = 16;
export const TP3_STATUS = 20;
export const TP3_MAC = 24;
/** struct tpacket2_hdr field offsets and TPACKET2_HDRLEN rounding. */
export const TP2_STATUS = 0;
export const TP2_LEN = 4;
export const TP2_SNAPLEN = 8;
export const TP2_MAC = 12;
/** TPACKET_ALIGNMENT. */
export const TPACKET_ALIGNMENT = 16;

// <sys/epoll.h>
/** epoll_ctl operations and event bits; struct epoll_event is packed, 12 bytes. */
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLLIN = 0x001;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLET = 1 << 31;
export const EPOLL_CLOEXEC = 0o2000000;
export const EPOLL_EVENT_SIZE = 12;

// <poll.h>
/** poll(2) event bits; struct pollfd is 8 bytes. */
export const POLLIN = 0x001;
export const POLLOUT = 0x004;
export const POLLFD_SIZE = 8;

// <sys/socket.h> struct mmsghdr / msghdr / iovec (x86_64 layout)
/** sizeof(struct mmsghdr), offsets of msghdr fields in it, sizeof(struct iovec). */
export const MMSGHDR_SIZE = 64;
export const MSG_NAME = 0;
export const MSG_NAMELEN = 8;
export const MSG_IOV = 16;
export const MSG_IOVLEN = 24;
export const MSG_CONTROL = 32;
export const MSG_CONTROLLEN = 40;
export const MSG_FLAGS = 48;
export const MSG_LEN = 56;
export const IOVEC_SIZE = 16;
/** recvmmsg/sendmmsg flags. */
export const MSG_WAITFORONE = 0x10000;
export const MSG_TRUNC = 0x20;

// <linux/virtio_net.h>
/** struct virtio_net_hdr (without num_buffers): the 10-byte header TAP and AF_PACKET agree on. */
export const VNET_HDR_LEN = 10;
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
export const VIRTIO_NET_HDR_GSO_UDP = 3;
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
export const VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

/** Largest frame the data plane moves: a 64 KiB GSO packet plus Ethernet and VLAN headers. */
export const MAX_FRAME = 65536 + 14 + 4;

/** Host-to-network byte order for 16-bit values (x86_64 is little-endian). */
export function htons(v: number): number {
  return ((v & 0xff) << 8) | ((v >> 8) & 0xff);
}
