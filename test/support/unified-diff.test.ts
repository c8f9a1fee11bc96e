/** The unified diff the oracle test prints on a mismatch. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { diffSize, unifiedDiff } from "./unified-diff.ts";

test("equal texts: no diff, size 0", () => {
  assert.equal(unifiedDiff("a\nb\n", "a\nb\n"), "");
  assert.equal(diffSize("a\nb\n", "a\nb\n"), 0);
});

test("one changed line: a hunk with 3 lines of context, diff -u numbering", () => {
  const a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
  const b = "1\n2\n3\n4\nFIVE\n6\n7\n8\n9\n";
  assert.equal(
    unifiedDiff(a, b, "real", "sim"),
    "--- real\n+++ sim\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+FIVE\n 6\n 7\n 8\n",
  );
  assert.equal(diffSize(a, b), 2);
});

test("far-apart changes make separate hunks; an added line counts once", () => {
  const a = Array.from({ length: 20 }, (_, i) => `l${i}`).join("\n");
  const b = a.replace("l1\n", "l1\nnew\n").replace("l18", "L18");
  const d = unifiedDiff(a, b);
  assert.equal(d.match(/^@@/gm)?.length, 2);
  assert.match(d, /^@@ -1,5 \+1,6 @@$/m);
  assert.match(d, /^\+new$/m);
  assert.equal(diffSize(a, b), 3);
});
