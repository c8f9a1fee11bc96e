// The bash files `ipvl run` installs: the command shim and the rc file. They are not TypeScript,
// so tsc does not copy them to dist/: they are read from src/cli/shims/ whether this module runs
// from src/ (tsx) or from dist/src/ (compiled).

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Names of the bash assets in src/cli/shims/. */
export type ShimAsset = "ipvl-shim.bash" | "ipvl-rc.bash";

/** Absolute path of an asset; throws when the source tree is not there. */
export function shimAssetPath(name: ShimAsset): string {
  const candidates = [
    new URL(`./${name}`, import.meta.url), // running from src/cli/shims/
    new URL(`../../../../src/cli/shims/${name}`, import.meta.url), // from dist/src/cli/shims/
  ];
  for (const url of candidates) {
    const path = fileURLToPath(url);
    if (existsSync(path)) return path;
  }
  throw new Error(`Cannot find the ipvl shim file "${name}" (looked in src/cli/shims/)`);
}

/** Text of an asset. */
export function readShimAsset(name: ShimAsset): string {
  return readFileSync(shimAssetPath(name), "utf8");
}
