/**
 * The reachability matrix of the oracle's modes-matrix.sh on the simulated kernel (IPv4 stack
 * + ipvlan), compared row by row with the recorded real-kernel results in modes-matrix.out.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { howto, MAC_M, ping, staticNeigh } from "./topology.ts";

/** modes-matrix.out, per mode: the probes in script order (OK = true). */
const EXPECTED: Record<string, readonly boolean[]> = {
  l2: [true, true, true, true, false, false, true, true, true],
  "l2 private": [false, false, true, true, false, false, true, true, true],
  "l2 vepa": [false, false, true, true, false, false, true, true, true],
  l3: [true, true, false, false, false, false, true, true, true],
  "l3 private": [false, false, false, false, false, false, true, true, true],
  l3s: [true, true, false, false, false, false, true, true, true],
};

const LABELS = [
  "ns0 -> ns1",
  "ns1 -> ns0",
  "ns0 -> router",
  "router -> ns0",
  "root -> ns0",
  "ns0 -> root",
  "router -> root",
  "router -> ns0 (static neigh)",
  "ns0 -> router (static neigh)",
];

for (const [mode, expected] of Object.entries(EXPECTED)) {
  test(`modes-matrix.out: mode ${mode}`, () => {
    const t = howto(mode);
    const got: boolean[] = [
      ping(t.k, t.ns0, "10.0.0.11"),
      ping(t.k, t.ns1, "10.0.0.10"),
      ping(t.k, t.ns0, "10.0.0.1"),
      ping(t.k, t.ext, "10.0.0.10"),
      ping(t.k, t.root, "10.0.0.10"),
      ping(t.k, t.ns0, "10.0.0.2"),
      ping(t.k, t.ext, "10.0.0.2"),
    ];
    staticNeigh(t, "10.0.0.10", MAC_M);
    got.push(ping(t.k, t.ext, "10.0.0.10"), ping(t.k, t.ns0, "10.0.0.1"));
    const row = (v: readonly boolean[]) => LABELS.map((l, i) => `${l}: ${v[i] ? "OK" : "FAIL"}`);
    assert.deepEqual(row(got), row(expected));
  });
}
