/**
 * The one error type of the packet layer. Parsing untrusted bytes throws `WireError` and nothing
 * else; callers on the data path turn it into a named drop counter.
 * @module
 */

/** Why a packet could not be parsed. */
export type WireErrorKind = "truncated" | "malformed" | "checksum" | "unsupported";

/** A packet that cannot be parsed: too short, inconsistent, with a bad checksum, or of a kind we do not handle. */
export class WireError extends Error {
  /** The category, stable for callers that count drops by reason. */
  readonly kind: WireErrorKind;

  /** Creates an error of the given kind; `message` follows the "Cannot parse X: detail" style. */
  constructor(kind: WireErrorKind, message: string) {
    super(message);
    this.name = "WireError";
    this.kind = kind;
  }
}

/** Builds a `truncated` error for a buffer shorter than a layer needs. @internal */
export function truncated(what: string, have: number, need: number): WireError {
  return new WireError("truncated", `Cannot parse ${what}: buffer is ${have} bytes, need ${need}`);
}

/** Builds a `malformed` error. @internal */
export function malformed(what: string, detail: string): WireError {
  return new WireError("malformed", `Cannot parse ${what}: ${detail}`);
}

/** Builds an `unsupported` error. @internal */
export function unsupported(what: string, detail: string): WireError {
  return new WireError("unsupported", `Cannot parse ${what}: ${detail}`);
}

/** Builds a `checksum` error. @internal */
export function badChecksum(what: string): WireError {
  return new WireError("checksum", `Cannot parse ${what}: checksum is invalid`);
}
