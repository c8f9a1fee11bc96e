/**
 * Creating and destroying named namespaces (what `ip netns add|del` ends up doing) and the
 * lookups userland needs.
 */
import { unregisterNetdevice } from "./dev.ts";
import { fail } from "./errno.ts";
import type { Kernel } from "./kernel.ts";
import type { NetNamespace } from "./netns.ts";

/** Creates a new named namespace; EEXIST if the name is taken. */
export function netnsAdd(kernel: Kernel, name: string): NetNamespace {
  if (findNetns(kernel, name)) fail("EEXIST");
  return kernel.createNamespace(name);
}

/** The namespace with an `ip netns` name, if any. */
export function findNetns(kernel: Kernel, name: string): NetNamespace | undefined {
  return kernel.namespaces.find((n) => n.name === name);
}

/** Named namespaces, most recently created first (the order `ip netns list` prints). */
export function namedNamespaces(kernel: Kernel): NetNamespace[] {
  return kernel.namespaces.filter((n) => n.name !== null).reverse();
}

/**
 * Deletes a namespace (cleanup_net → default_device_exit): devices that may change namespace
 * and are "physical" would move back to init_net; every virtual device here is unregistered,
 * and a link kind's delLink runs so pairs (veth) go together. Loopback goes last.
 */
export function netnsDelete(net: NetNamespace): void {
  const kernel = net.kernel;
  if (net === kernel.initNet) fail("EINVAL");
  net.name = null;
  for (const dev of net.devicesInOrder().reverse()) {
    if (dev.ifindex === 1 || !dev.registered) continue;
    const ops = kernel.linkKinds.get(dev.kind);
    if (ops?.delLink) ops.delLink(dev);
    else unregisterNetdevice(dev);
  }
  const lo = net.devices.get(1);
  if (lo) unregisterNetdevice(lo);
  kernel.destroyNamespace(net);
}
