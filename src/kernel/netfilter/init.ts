/**
 * netfilterInit: registers the per-namespace state of nf_tables and conntrack (their
 * pernet_operations), so a dying namespace drops its ruleset, hooks and entries.
 */
import type { Kernel } from "../kernel.ts";
import { nfCtNetExit } from "./conntrack.ts";
import { nftNetExit } from "./nft-core.ts";

/** Whether netfilterInit ran on a kernel. */
const initialised = new WeakSet<Kernel>();

/** Sets up nf_tables and conntrack on a kernel (idempotent). */
export function netfilterInit(kernel: Kernel): void {
  if (initialised.has(kernel)) return;
  initialised.add(kernel);
  kernel.registerPernet({
    name: "netfilter",
    init: () => {},
    exit: (net) => {
      nftNetExit(net);
      nfCtNetExit(net);
    },
  });
}
