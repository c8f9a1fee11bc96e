// After the script's bash exits, its background commands may still be running (or still be
// starting: a `tcpdump &` on the last line connects a few ms later). They all carry the run's
// token in their environment, which is how they are found without owning their process group
// (a private process group would cut the script off from the terminal's Ctrl-C).

import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";

/** Pids of live processes whose environment holds `IPVL_TOKEN=<token>` ([] without /proc). */
export function processesOfRun(token: string): number[] {
  const needle = `\0IPVL_TOKEN=${token}\0`;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (`\0${readFileSync(`/proc/${entry}/environ`, "latin1")}`.includes(needle)) pids.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return pids;
}

/** Waits until no shim is connected and no process of the run is left, or `timeoutMs` passed. */
export async function drainRun(
  token: string,
  connections: () => number,
  idle: (timeoutMs: number) => Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    if (connections() > 0) await idle(left);
    else if (processesOfRun(token).length === 0) return true;
    else await delay(Math.min(20, left));
  }
}
