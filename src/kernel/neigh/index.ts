/** The neighbour subsystem's public surface (re-exported by src/kernel/index.ts). */
export * from "./admin.ts";
export * from "./neigh.ts";
export * from "./output.ts";
export * from "./types.ts";
