/**
 * Boots a simulated kernel: registers the core subsystems in the order Linux initialises them
 * (loopback first, so every namespace gets `lo` as ifindex 1) and the built-in link kinds.
 * Protocol stacks and drivers outside the core (ipvlan) are registered by their own init
 * functions, called by whoever assembles the system (the cli).
 */
import { dummyLinkOps } from "./devices/dummy.ts";
import { loopbackPernet } from "./devices/loopback.ts";
import { vethLinkOps } from "./devices/veth.ts";
import { Kernel, type KernelOptions } from "./kernel.ts";
import { rtnlInit } from "./rtnetlink.ts";

/** A kernel with lo, veth and dummy; add protocol stacks and drivers with their init functions. */
export function bootKernel(options: KernelOptions = {}): Kernel {
  const kernel = new Kernel(options);
  rtnlInit(kernel);
  kernel.registerPernet(loopbackPernet);
  kernel.registerLinkKind(vethLinkOps(kernel));
  kernel.registerLinkKind(dummyLinkOps(kernel));
  return kernel;
}
