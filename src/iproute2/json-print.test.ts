import assert from "node:assert/strict";
import { test } from "node:test";
import { Printer, sprintf } from "./json-print.ts";
import { matches } from "./utils.ts";

test("sprintf() pads like printf for %-16s, %d and %#x", () => {
  assert.equal(sprintf("%-16s|", "eth0@if2"), "eth0@if2        |");
  assert.equal(sprintf("%d: ", 3), "3: ");
  assert.equal(sprintf("state %#x", 9), "state 0x9");
});

test("Printer writes jsonw's pretty form with arrays on one line", () => {
  const p = new Printer({ json: true, pretty: true, oneline: false });
  p.start();
  p.openObject(null);
  p.number("any", "ifindex", "%d: ", 1);
  p.openArray("any", "flags");
  p.string("any", null, "%s", "UP");
  p.string("any", null, "%s", "LOWER_UP");
  p.closeArray("any", "> ");
  p.closeObject();
  p.end();
  assert.equal(p.take(), '[ {\n        "ifindex": 1,\n        "flags": [ "UP","LOWER_UP" ]\n    } ]\n');
});

test("matches() accepts any non-empty prefix of the keyword", () => {
  assert.ok(matches("l", "link"));
  assert.ok(!matches("links", "link"));
  assert.ok(!matches("", "link"));
});
