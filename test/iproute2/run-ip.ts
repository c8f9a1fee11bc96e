/**
 * Helpers for running the simulated `ip` in tests: one command line on a kernel, and the kernel a
 * golden recording expects.
 */
import { bootKernel, ipv4Init, ipv6Init, type Kernel, type NetNamespace } from "../../src/kernel/index.ts";
import { ipMain } from "../../src/iproute2/index.ts";

/** Runs one `ip` command line on the kernel (in `net`, default the initial namespace); returns what it printed. */
export async function runIp(kernel: Kernel, argv: readonly string[], net: NetNamespace = kernel.initNet) {
  let stdout = "";
  let stderr = "";
  const rc = await ipMain({
    kernel,
    net,
    argv,
    stdin: new Uint8Array(0),
    out: (s) => {
      stdout += s;
    },
    err: (s) => {
      stderr += s;
    },
  });
  kernel.loop.runUntil(kernel.now + 1_000_000n);
  return { stdout, stderr, rc };
}

/**
 * A kernel like the one the recording ran on: IPv4 always, IPv6 when the .cmds file starts with
 * "#!ipv6" (the recorder disables IPv6 in the namespace otherwise).
 */
export function goldenKernel(cmdsText: string): Kernel {
  const kernel = bootKernel({ seed: 1 });
  ipv4Init(kernel);
  if (cmdsText.startsWith("#!ipv6\n")) ipv6Init(kernel);
  // The recording ran in a namespace named "ipvlg-root" standing for the initial namespace.
  kernel.initNet.name = "ipvlg-root";
  return kernel;
}
