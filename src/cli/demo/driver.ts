/**
 * Loads the ipvlan driver for the demo. The driver is imported dynamically so that a driver that
 * is missing or does not load yet turns into a message in the demo's output, not a crash.
 */
import type { Kernel } from "../../kernel/index.ts";

/** The driver's module init, or why there is none. */
export type DriverLoad =
  | { readonly ok: true; readonly init: (kernel: Kernel) => void }
  | { readonly ok: false; readonly reason: string };

/** Imports src/ipvlan and returns its `ipvlanInit`, or the reason it is unavailable. */
export async function loadIpvlanDriver(): Promise<DriverLoad> {
  try {
    const mod: Record<string, unknown> = await import("../../ipvlan/index.ts");
    const init = mod.ipvlanInit;
    if (typeof init !== "function") return { ok: false, reason: "src/ipvlan does not export ipvlanInit yet" };
    return { ok: true, init: init as (kernel: Kernel) => void };
  } catch (e) {
    return { ok: false, reason: `src/ipvlan does not load: ${e instanceof Error ? e.message : String(e)}` };
  }
}
