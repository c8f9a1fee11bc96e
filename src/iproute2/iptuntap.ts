/** `ip tuntap add|del|show` (ip/iptuntap.c): persistent tun/tap devices through TUNSETIFF. */
import {
  createTun,
  KernelError,
  type NetNamespace,
  TunDevice,
  unregisterNetdevice,
} from "../kernel/index.ts";
import { TUNTAP_USAGE } from "./help-texts.ts";
import type { IpOptions } from "./options.ts";
import { duparg, invarg, IpExit, type IpToolContext, matches } from "./utils.ts";

interface TuntapArgs {
  name: string;
  mode: "tun" | "tap" | null;
}

function parse(ctx: IpToolContext, argv: string[]): TuntapArgs {
  const r: TuntapArgs = { name: "", mode: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): string => {
      i++;
      if (i >= argv.length) {
        ctx.err('Command line is not complete. Try option "help"\n');
        throw new IpExit(255);
      }
      return argv[i]!;
    };
    if (a === "mode") {
      const v = next();
      const m = matches(v, "tun") ? "tun" : matches(v, "tap") ? "tap" : null;
      if (m === null) {
        ctx.err(`Unknown tunnel mode "${v}"\n`);
        throw new IpExit(255);
      }
      if (r.mode !== null && r.mode !== m) {
        ctx.err("You managed to ask for more than one tunnel mode.\n");
        throw new IpExit(255);
      }
      r.mode = m;
    } else if (a === "user" || a === "group") next();
    else if (a === "one_queue" || a === "pi" || a === "vnet_hdr" || a === "multi_queue") {
      // accepted; the simulated device ignores them
    } else if (a === "name") {
      r.name = next();
    } else {
      if (matches(a, "dev")) next();
      else if (matches(a, "help")) {
        ctx.err(TUNTAP_USAGE);
        throw new IpExit(255);
      }
      const v = argv[i]!;
      if (r.name !== "") duparg(ctx.err, "dev", v);
      if (Buffer.byteLength(v) >= 16) invarg(ctx.err, '"dev" name is too long', v);
      r.name = v;
    }
  }
  return r;
}

/** TUNSETIFF on an existing name: the same kind attaches (busy when persistent here), others fail. */
function tunsetiff(ctx: IpToolContext, net: NetNamespace, t: TuntapArgs, del: boolean): number {
  const mode = t.mode!;
  const existing = t.name !== "" ? net.dev(t.name) : undefined;
  if (existing) {
    if (!(existing instanceof TunDevice) || existing.mode !== mode) {
      ctx.err(
        `ioctl(TUNSETIFF): ${existing instanceof TunDevice ? "Device or resource busy" : "Invalid argument"}\n`,
      );
      return 1;
    }
    if (!del) {
      ctx.err("ioctl(TUNSETIFF): Device or resource busy\n");
      return 1;
    }
    unregisterNetdevice(existing);
    return 0;
  }
  if (del) return 0;
  try {
    createTun(net, ctx.kernel, t.name === "" ? `${mode}%d` : t.name, mode);
  } catch (e) {
    if (e instanceof KernelError) {
      ctx.err(`ioctl(TUNSETIFF): ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  return 0;
}

/** do_iptuntap. */
export function doIptuntap(ctx: IpToolContext, _opts: IpOptions, net: NetNamespace, argv: string[]): number {
  if (
    argv.length === 0 ||
    matches(argv[0]!, "show") ||
    matches(argv[0]!, "list") ||
    matches(argv[0]!, "lst")
  ) {
    let out = "";
    for (const d of net.devicesInOrder()) {
      if (d instanceof TunDevice) out += `${d.name}: ${d.mode} persist\n`;
    }
    ctx.out(out);
    return 0;
  }
  const [cmd, ...rest] = argv as [string, ...string[]];
  if (matches(cmd, "add") || matches(cmd, "delete")) {
    const t = parse(ctx, rest);
    if (t.mode === null) {
      ctx.err("You failed to specify a tunnel mode\n");
      return 1;
    }
    return tunsetiff(ctx, net, t, matches(cmd, "delete"));
  }
  if (matches(cmd, "help")) {
    ctx.err(TUNTAP_USAGE);
    throw new IpExit(255);
  }
  ctx.err(`Command "${cmd}" is unknown, try "ip tuntap help".\n`);
  throw new IpExit(255);
}
