/** Paths of the recorded tool fixtures (test/fixtures/tcpdump), from src/ or dist/ layouts. */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Absolute path of a file in test/fixtures/tcpdump. */
export function fixturePath(name: string): string {
  for (const rel of ["../fixtures/tcpdump/", "../../../test/fixtures/tcpdump/"]) {
    const p = fileURLToPath(new URL(rel + name, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error(`Cannot find fixture "${name}" in test/fixtures/tcpdump`);
}
