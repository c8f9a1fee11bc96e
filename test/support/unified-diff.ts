/**
 * A unified diff (`diff -u` style hunks with 3 lines of context) of two texts, line by line, for
 * readable test failures without depending on a `diff` binary.
 */

type Op = { readonly kind: " " | "-" | "+"; readonly text: string };

/** The edit script of a → b from a longest common subsequence (O(n·m), fine for test outputs). */
function editScript(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    const row = lcs[i]!;
    const next = lcs[i + 1]!;
    for (let j = m - 1; j >= 0; j--)
      row[j] = a[i] === b[j] ? next[j + 1]! + 1 : Math.max(next[j]!, row[j + 1]!);
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ kind: " ", text: a[i]! });
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!))
      ops.push({ kind: "-", text: a[i++]! });
    else ops.push({ kind: "+", text: b[j++]! });
  }
  return ops;
}

/** Number of changed lines (removed + added) between two texts. */
export function diffSize(expected: string, actual: string): number {
  return editScript(expected.split("\n"), actual.split("\n")).filter((o) => o.kind !== " ").length;
}

/** `diff -u` of expected → actual ("" when equal), labelled with the two names. */
export function unifiedDiff(
  expected: string,
  actual: string,
  from = "expected",
  to = "actual",
  context = 3,
): string {
  if (expected === actual) return "";
  const ops = editScript(expected.split("\n"), actual.split("\n"));
  const out = [`--- ${from}`, `+++ ${to}`];
  // positions (1-based line numbers) before each op
  const posA: number[] = [];
  const posB: number[] = [];
  let la = 1;
  let lb = 1;
  for (const o of ops) {
    posA.push(la);
    posB.push(lb);
    if (o.kind !== "+") la++;
    if (o.kind !== "-") lb++;
  }
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.kind === " ") {
      k++;
      continue;
    }
    let start = Math.max(0, k - context);
    let end = k;
    // extend the hunk while the next change is within 2*context unchanged lines
    for (;;) {
      while (end < ops.length && ops[end]!.kind !== " ") end++;
      let gap = end;
      while (gap < ops.length && ops[gap]!.kind === " ") gap++;
      if (gap < ops.length && gap - end <= 2 * context) end = gap;
      else {
        end = Math.min(ops.length, end + context);
        break;
      }
    }
    if (start < 0) start = 0;
    const slice = ops.slice(start, end);
    const lenA = slice.filter((o) => o.kind !== "+").length;
    const lenB = slice.filter((o) => o.kind !== "-").length;
    const a0 = lenA === 0 ? posA[start]! - 1 : posA[start]!;
    const b0 = lenB === 0 ? posB[start]! - 1 : posB[start]!;
    out.push(`@@ -${a0},${lenA} +${b0},${lenB} @@`);
    for (const o of slice) out.push(`${o.kind}${o.text}`);
    k = end;
  }
  return `${out.join("\n")}\n`;
}
