/** Test support: run the simulated nft / conntrack in a namespace and capture what they print. */
import type { Kernel, NetNamespace } from "../../src/kernel/index.ts";
import type { ToolContext } from "../../src/tools/index.ts";

/** What one tool run produced. */
export interface ToolResult {
  readonly rc: number;
  readonly out: string;
  readonly err: string;
}

/** Runs a tool main function with argv (without the tool name). */
export async function runTool(
  main: (ctx: ToolContext) => Promise<number>,
  kernel: Kernel,
  net: NetNamespace,
  argv: readonly string[],
  opts: { stdin?: string; cwd?: string } = {},
): Promise<ToolResult> {
  let out = "";
  let err = "";
  const ctx: ToolContext = {
    kernel,
    net,
    argv,
    stdin: new TextEncoder().encode(opts.stdin ?? ""),
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
  };
  const rc = await main(ctx);
  return { rc, out, err };
}
