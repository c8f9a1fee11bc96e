/**
 * The real kernel's answers, embedded for checkouts without ../shared: the reachability matrices of
 * test/fixtures/oracle/modes-matrix.out and seed-example-l2.out (byte-identical copies of the
 * oracle's records). test/demo/demo.test.ts checks that this equals a parse of those files.
 */
import type { Oracle } from "./oracle.ts";

/** The embedded copy of the oracle's matrices. */
export const ORACLE_EMBEDDED: Oracle = {
  source: "the embedded copy of test/fixtures/oracle/{modes-matrix,seed-example-l2}.out",
  kernel: "6.1.0-56-amd64 (Debian 6.1.192-2)",
  modes: {
    l2: {
      modeLine: "mode l2 bridge",
      flags: "BROADCAST,MULTICAST,UP,LOWER_UP",
      probes: {
        "ns0>ns1": true,
        "ns1>ns0": true,
        "ns0>router": true,
        "router>ns0": true,
        "root>ns0": false,
        "ns0>root": false,
        "router>root": true,
        "router>ns0+static": true,
        "ns0>router+static": true,
      },
    },
    "l2 private": {
      modeLine: "mode l2 private",
      flags: "BROADCAST,MULTICAST,UP,LOWER_UP",
      probes: {
        "ns0>ns1": false,
        "ns1>ns0": false,
        "ns0>router": true,
        "router>ns0": true,
        "root>ns0": false,
        "ns0>root": false,
        "router>root": true,
        "router>ns0+static": true,
        "ns0>router+static": true,
      },
    },
    "l2 vepa": {
      modeLine: "mode l2 vepa",
      flags: "BROADCAST,MULTICAST,UP,LOWER_UP",
      probes: {
        "ns0>ns1": false,
        "ns1>ns0": false,
        "ns0>router": true,
        "router>ns0": true,
        "root>ns0": false,
        "ns0>root": false,
        "router>root": true,
        "router>ns0+static": true,
        "ns0>router+static": true,
      },
    },
    l3: {
      modeLine: "mode l3 bridge",
      flags: "BROADCAST,MULTICAST,NOARP,UP,LOWER_UP",
      probes: {
        "ns0>ns1": true,
        "ns1>ns0": true,
        "ns0>router": false,
        "router>ns0": false,
        "root>ns0": false,
        "ns0>root": false,
        "router>root": true,
        "router>ns0+static": true,
        "ns0>router+static": true,
      },
    },
    "l3 private": {
      modeLine: "mode l3 private",
      flags: "BROADCAST,MULTICAST,NOARP,UP,LOWER_UP",
      probes: {
        "ns0>ns1": false,
        "ns1>ns0": false,
        "ns0>router": false,
        "router>ns0": false,
        "root>ns0": false,
        "ns0>root": false,
        "router>root": true,
        "router>ns0+static": true,
        "ns0>router+static": true,
      },
    },
    l3s: {
      modeLine: "mode l3s bridge",
      flags: "BROADCAST,MULTICAST,NOARP,UP,LOWER_UP",
      probes: {
        "ns0>ns1": true,
        "ns1>ns0": true,
        "ns0>router": false,
        "router>ns0": false,
        "root>ns0": false,
        "ns0>root": false,
        "router>root": true,
        "router>ns0+static": true,
        "ns0>router+static": true,
      },
    },
  },
  seedL2: {
    "ns0>ns1": true,
    "ns1>ns0": true,
    "ns0>router": true,
    "router>ns0": true,
    "root>ns0": false,
    "ns0>root": false,
    "ns1>router": true,
    "router>ns1": true,
    "router>root": true,
  },
};
