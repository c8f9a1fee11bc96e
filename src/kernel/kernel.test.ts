import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_KERNEL_RELEASE, Kernel, parseKernelRelease } from "./kernel.ts";

test("release: 6.1.0 unless told; releaseAtLeast compares major.minor", () => {
  assert.equal(new Kernel().release, DEFAULT_KERNEL_RELEASE);
  assert.equal(new Kernel().releaseAtLeast(6, 11), false);
  const k = new Kernel({ release: "6.18.0" });
  assert.equal(k.releaseAtLeast(6, 11), true);
  assert.equal(k.releaseAtLeast(6, 18), true);
  assert.equal(k.releaseAtLeast(6, 19), false);
  assert.equal(k.releaseAtLeast(5, 30), true);
  assert.deepEqual(parseKernelRelease("6.18.44-fc-v769"), [6, 18, 44]);
  assert.deepEqual(parseKernelRelease("6.6"), [6, 6, 0]);
  assert.throws(() => new Kernel({ release: "six" }), /Cannot parse kernel release "six"/);
});
