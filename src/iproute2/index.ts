/** The `ip` program over a simulated kernel: its entry point and `ip netns exec` resolution. */
export { ipMain } from "./ip.ts";
export { type NetnsExecResolution, resolveNetnsExec } from "./ipnetns.ts";
export type { IpToolContext } from "./utils.ts";
