import assert from "node:assert/strict";
import { test } from "node:test";
import { IpProto } from "./ip-proto.ts";

test("IpProto holds the IANA numbers the codecs dispatch on", () => {
  assert.deepEqual(
    [
      IpProto.HopByHop,
      IpProto.Icmp,
      IpProto.Tcp,
      IpProto.Udp,
      IpProto.Ipv6Route,
      IpProto.Ipv6Frag,
      IpProto.Icmpv6,
    ],
    [0, 1, 6, 17, 43, 44, 58],
  );
  assert.deepEqual([IpProto.Ipv6NoNext, IpProto.Ipv6Opts], [59, 60]);
});
