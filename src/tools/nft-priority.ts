/**
 * Chain priorities by name (nftables src/rule.c: std_prios, bridge_std_prios): which names are
 * valid for a family and hook, and how a number prints back ("mangle", "filter + 10", "-90").
 */
import type { NftFamily, NftHookName } from "../kernel/index.ts";

const STD: readonly (readonly [string, number])[] = [
  ["raw", -300],
  ["mangle", -150],
  ["dstnat", -100],
  ["filter", 0],
  ["security", 50],
  ["srcnat", 100],
];

const BRIDGE: readonly (readonly [string, number])[] = [
  ["dstnat", -300],
  ["filter", -200],
  ["out", 100],
  ["srcnat", 300],
];

function table(family: NftFamily): readonly (readonly [string, number])[] {
  return family === "bridge" ? BRIDGE : STD;
}

/** Whether a named priority may be used by a chain of this family and hook. */
function nameValid(family: NftFamily, hook: NftHookName, name: string): boolean {
  switch (family) {
    case "ip":
    case "ip6":
    case "inet":
      if (name === "dstnat") return hook === "prerouting";
      if (name === "srcnat") return hook === "postrouting";
      return true;
    case "bridge":
      if (name === "dstnat") return hook === "prerouting";
      if (name === "srcnat") return hook === "postrouting";
      if (name === "out") return hook === "output";
      return true;
    default:
      return name === "filter";
  }
}

/** The value of a priority name for a family/hook; undefined when unknown or not valid there. */
export function priorityByName(family: NftFamily, hook: NftHookName, name: string): number | undefined {
  const hit = table(family).find(([n]) => n === name);
  if (!hit || !nameValid(family, hook, hit[0])) return undefined;
  return hit[1];
}

/** prio2str: the closest standard name within 10, with an offset; else the number. */
export function priorityText(family: NftFamily, hook: NftHookName, prio: number, numeric: boolean): string {
  if (numeric) return String(prio);
  for (const [name, value] of table(family)) {
    if (Math.abs(prio - value) > 10) continue;
    if (!nameValid(family, hook, name)) break;
    const off = prio - value;
    if (off > 0) return `${name} + ${off}`;
    if (off < 0) return `${name} - ${-off}`;
    return name;
  }
  return String(prio);
}
