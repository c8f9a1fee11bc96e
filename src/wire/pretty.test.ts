import assert from "node:assert/strict";
import { test } from "node:test";
import { WireError } from "./error.ts";
import { formatFrame, formatFrameRepr } from "./pretty.ts";
import { parseFrame } from "./frame.ts";
import { FRAMES, type FrameName } from "./test-frames.ts";

test("formatFrame() summarises ARP, ICMP, TCP and ND frames on one line", () => {
  assert.equal(
    formatFrame(FRAMES.arpRequest),
    "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP: Request who-has 10.0.0.2 tell 10.0.0.1",
  );
  assert.equal(
    formatFrame(FRAMES.icmp4EchoRequest),
    "02:00:00:00:00:01 > 02:00:00:00:00:02, IPv4: 10.0.0.1 > 10.0.0.2 (tos 0x00, ttl 64, id 2297, DF): ICMP echo request, id 4260, seq 1, length 64",
  );
  assert.equal(
    formatFrame(FRAMES.tcp4Syn),
    "02:00:00:00:00:01 > 02:00:00:00:00:02, IPv4: 10.0.0.1 > 10.0.0.2 (tos 0x00, ttl 64, id 5464, DF): TCP 60242 > 5000: Flags [S], seq 1370090087, ack 0, win 64240, options [mss 1460,sackOK,TS val 4177924643 ecr 0,nop,wscale 10], length 0",
  );
  assert.equal(
    formatFrame(FRAMES.ns),
    "02:00:00:00:00:01 > 33:33:ff:00:00:02, IPv6: 2001:db8::1 > ff02::1:ff00:2 (flowlabel 0x00000, hlim 255): ICMP6 neighbor solicitation, who has 2001:db8::2 [sll 02:00:00:00:00:01]",
  );
});

test("formatFrameRepr() produces a line for every captured frame", () => {
  for (const name of Object.keys(FRAMES) as FrameName[]) {
    const line = formatFrameRepr(parseFrame(FRAMES[name]));
    assert.ok(
      line.length > 20 && !line.includes("\n") && !line.includes("undefined") && !line.includes("NaN"),
      name,
    );
  }
});

test("formatFrame() throws WireError for frames that do not parse", () => {
  assert.throws(() => formatFrame(FRAMES.udp4.subarray(0, 30)), WireError);
});
