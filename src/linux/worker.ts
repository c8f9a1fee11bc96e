/**
 * Entry point of the forwarding Worker: opens the master socket inside the master's namespace
 * (setns on this thread only), loads the switch module, then blocks in the epoll loop until told
 * to stop. Started by data-plane.ts; see protocol.ts for the messages.
 */
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { Counters, PlaneCounter } from "./counters.ts";
import { EventFd } from "./epoll.ts";
import { Forwarder } from "./forwarder.ts";
import { ifHwaddr } from "./iface.ts";
import { raw } from "./libc.ts";
import { withNetns } from "./netns.ts";
import { PacketSocket } from "./packet-socket.ts";
import type { WorkerInit, WorkerNotice, WorkerRequest } from "./protocol.ts";
import type { SwitchModule } from "./switch.ts";

const init = workerData as WorkerInit;
const post = (n: WorkerNotice) => parentPort!.postMessage(n);

const master = PacketSocket.open(init.master);
const mac = withNetns(init.master.netns ?? null, () => ifHwaddr(init.master.ifname));
const mod = (await import(init.switchModule)) as SwitchModule;
const sw = mod.createSwitch({ masterMac: mac, masterMtu: master.mtu, config: init.switchConfig });
const counters = new Counters(init.counters);
const fwd = new Forwarder(master, sw, counters, init.forwarder);
const control = new EventFd(init.controlFd);
fwd.addControl(control.fd);
post({ type: "ready", ifindex: master.ifindex, mtu: master.mtu, mac, tid: raw.gettid() });

function handle(req: WorkerRequest): { value: unknown; stop: boolean } {
  switch (req.op) {
    case "add-tap":
      fwd.addTap(req.port, req.fd, req.name);
      return { value: true, stop: false };
    case "remove-tap":
      fwd.removeTap(req.port);
      return { value: true, stop: false };
    case "switch":
      return { value: sw.control(req.message), stop: false };
    case "switch-counters":
      return { value: sw.counters(), stop: false };
    case "master-stats":
      return { value: { ...master.stats(), truncated: master.truncated }, stop: false };
    case "stop":
      return { value: true, stop: true };
  }
}

let running = true;
while (running) {
  const r = fwd.poll(-1);
  if (r.dead.length > 0) post({ type: "dead", ports: [...r.dead] });
  if (r.masterError !== 0) post({ type: "master-error", errno: r.masterError });
  if (!r.control) continue;
  control.drain();
  for (;;) {
    const m = receiveMessageOnPort(init.requests);
    if (m === undefined) break;
    const req = m.message as WorkerRequest;
    counters.slots[Counters.plane(PlaneCounter.CONTROLS)]++;
    try {
      const { value, stop } = handle(req);
      if (stop) running = false;
      post({ type: "reply", id: req.id, ok: true, value });
    } catch (e) {
      const err = e as { message?: string; code?: unknown };
      const code = typeof err.code === "string" ? err.code : undefined;
      post({
        type: "reply",
        id: req.id,
        ok: false,
        error:
          code === undefined ? { message: String(err.message ?? e) } : { message: String(err.message), code },
      });
    }
  }
}

fwd.close();
master.close();
init.requests.close();
post({ type: "stopped" });
