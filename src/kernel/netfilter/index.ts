/** The netfilter public surface (nf_tables, conntrack, nf_log); hook points are in hooks.ts. */
export * from "./conntrack.ts";
export {
  type CtTuple,
  IP_CT,
  IP_CT_DIR,
  IPS,
  TCP_CONNTRACK,
  TCP_STATE_NAMES,
} from "./conntrack-proto.ts";
export { netfilterInit } from "./init.ts";
export { NF_LOG_ALL_NETNS } from "./nf-log.ts";
export * from "./nft-core.ts";
export { compare as nftCompare, NF_CT_STATE, NFT_JUMP_STACK_SIZE, nftDoChain } from "./nft-eval.ts";
export * from "./nft-types.ts";
export { ETH_P_IP, ETH_P_IPV6 } from "./pktinfo.ts";
