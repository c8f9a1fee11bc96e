/** `tun` as `ip -d link` prints it (ip/iptuntap.c tun_print_opt). */
import type { Printer } from "../json-print.ts";
import type { LinkUtil } from "./registry.ts";

function print(p: Printer, data: Readonly<Record<string, string | number | boolean>> | undefined): void {
  if (!data) return;
  if (typeof data.type === "string") p.string("any", "type", "type %s ", data.type);
  if (typeof data.pi === "boolean") p.onOff("any", "pi", "pi %s ", data.pi);
  if (typeof data.vnet_hdr === "boolean") p.onOff("any", "vnet_hdr", "vnet_hdr %s ", data.vnet_hdr);
  // multi_queue is a JSON member always, text only when on.
  if (typeof data.multi_queue === "boolean") {
    if (p.json) p.bool("json", "multi_queue", null, data.multi_queue);
    else if (data.multi_queue) p.fp("multi_queue ");
  }
  if (typeof data.persist === "boolean") p.onOff("any", "persist", "persist %s ", data.persist);
}

/** `tun` (created with `ip tuntap`, not `ip link add`). */
export const tunLinkUtil: LinkUtil = { id: "tun", print };
