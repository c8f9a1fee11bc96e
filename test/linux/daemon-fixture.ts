/**
 * A minimal data-plane daemon for the restart test: runs in the master's namespace, starts a
 * DataPlane on the master, creates or re-attaches the slaves named on the command line, prints
 * "ready" and forwards until SIGTERM (clean stop, TAPs persist) or SIGKILL (a crash).
 *
 *   node daemon-fixture.js '{"master":"m0","mode":"create","slaves":[{"name":"tap0","netns":null,"addr":"10.0.0.10"}]}'
 */
import { IPVLAN_SWITCH_MODULE } from "../../src/cli/real/index.ts";
import { DataPlane, type NetnsRef } from "../../src/linux/index.ts";

interface FixtureConfig {
  readonly master: string;
  readonly mode: "create" | "attach";
  readonly slaves: readonly { readonly name: string; readonly netns: NetnsRef; readonly addr: string }[];
}

const config = JSON.parse(process.argv[2] ?? "{}") as FixtureConfig;
const plane = await DataPlane.start({ master: config.master, switchModule: IPVLAN_SWITCH_MODULE });
for (const s of config.slaves) {
  const slave = await plane.addSlave({ name: s.name, netns: s.netns, mode: config.mode });
  await plane.addAddress(slave.port, s.addr);
}
// A restarted daemon adopted the previous isolation table; now that every address is back,
// drop whatever a removed slave left there.
await plane.syncIsolation();
process.stdout.write(`ready ${process.pid}\n`);
process.once("SIGTERM", () => {
  void plane.stop({ keepIsolation: true }).then(() => process.exit(0));
});
