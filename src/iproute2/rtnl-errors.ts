/** How iproute2 reports a failed netlink request: the extack text, else "RTNETLINK answers: ...". */
import { type KernelError, strerror } from "../kernel/index.ts";
import type { IpToolContext } from "./utils.ts";

/** Prints the error of a failed request as rtnl_talk does and returns exit status 2. */
export function reportKernelError(ctx: IpToolContext, e: KernelError): number {
  if (e.extack !== undefined && e.extack !== "") {
    ctx.err(`Error: ${e.extack}${e.extack.endsWith(".") ? "" : "."}\n`);
  } else ctx.err(`RTNETLINK answers: ${strerror(e.errno)}\n`);
  return 2;
}
