/** Simulated userland tools other than `ip`. */
export type { ToolContext } from "./context.ts";
export { conntrackMain } from "./conntrack.ts";
export { nftMain } from "./nft.ts";
