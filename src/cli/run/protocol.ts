// Wire protocol between a shim (src/cli/shims/ipvl-shim.bash) and the `ipvl run` server.
//
// The client is bash on a /dev/tcp fd, which shapes everything:
// - bash's stdout is line buffered, so each "\n" it prints is one write(2), one TCP segment
//   (and Nagle waits between them): a request is ONE line, fields separated by US (0x1f):
//     IPVL1 <token> US P<pid> US T<tool> [US N<netns>] US C<cwd> US A<argv0> US A<arg1> ... "\n"
//   The first field authenticates (anything else: the connection is closed). P: the shim's pid
//   (its environment is read from /proc/<pid>/environ); T: ip, tcpdump, ..., cat, test, [, or
//   @netns-exec (the `ip netns exec` check); N: IPVL_NETNS of the caller; C: its $PWD; A: argv.
//   Field values are escaped: "\" -> "\\", newline -> "\n", US -> "\u".
//   Later client lines: K<SIGINT|SIGTERM|SIGHUP> (the shim got that signal) at any time, and,
//   only after the server's "I" frame, I<escaped stdin> (all of it).
// - bash reads a socket one byte per syscall with `read -r` (1 KB of output: +1.5 ms per call)
//   but in one syscall with `read -N n` (n bytes when LC_ALL=C), so output is length-prefixed.
//   Server -> client frames:
//     1<n>\n<n bytes>   stdout data        2<n>\n<n bytes>   stderr data
//     I\n               send your stdin     x<code>\n          exit status; the last frame

/** First word of the request; bump it on incompatible changes. */
export const PROTOCOL_MAGIC = "IPVL1";

/** Field separator of the request line (ASCII unit separator). */
export const FIELD_SEPARATOR = "\x1f";

/** One decoded shim request. */
export interface ShimRequest {
  readonly pid: number;
  readonly tool: string;
  readonly netns: string | null;
  readonly cwd: string;
  readonly argv: readonly string[];
}

/** Escapes a field value for the request line. */
export function escapeField(s: string): string {
  return s.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll(FIELD_SEPARATOR, "\\u");
}

const UNESCAPES: Readonly<Record<string, string>> = { "\\": "\\", n: "\n", u: FIELD_SEPARATOR };

/** Reverses `escapeField` (a backslash before any other character is kept as is). */
export function unescapeField(s: string): string {
  if (!s.includes("\\")) return s;
  return s.replace(/\\([\\nu])/g, (_m, c: string) => UNESCAPES[c]!);
}

/** Encodes a request line as a shim sends it (used by tests and by non-bash clients). */
export function encodeRequest(token: string, req: ShimRequest): string {
  const fields = [`${PROTOCOL_MAGIC} ${token}`, `P${req.pid}`, `T${escapeField(req.tool)}`];
  if (req.netns !== null) fields.push(`N${escapeField(req.netns)}`);
  fields.push(`C${escapeField(req.cwd)}`);
  for (const a of req.argv) fields.push(`A${escapeField(a)}`);
  return `${fields.join(FIELD_SEPARATOR)}\n`;
}

/** The bytes a request starts with: magic, token, separator (compared before anything is parsed). */
export function authPrefix(token: string): Buffer {
  return Buffer.from(`${PROTOCOL_MAGIC} ${token}${FIELD_SEPARATOR}`);
}

/** Decodes the fields after the auth field; throws on a malformed request. */
export function parseRequest(rest: string): ShimRequest {
  let pid = 0;
  let tool = "";
  let netns: string | null = null;
  let cwd = "/";
  const argv: string[] = [];
  for (const field of rest.split(FIELD_SEPARATOR)) {
    const v = unescapeField(field.slice(1));
    switch (field[0]) {
      case "P":
        pid = Number.parseInt(v, 10) || 0;
        break;
      case "T":
        tool = v;
        break;
      case "N":
        netns = v === "" ? null : v;
        break;
      case "C":
        cwd = v;
        break;
      case "A":
        argv.push(v);
        break;
      default:
        throw new Error(`Cannot parse request field "${field.slice(0, 40)}"`);
    }
  }
  if (tool === "" || argv.length === 0) throw new Error("Incomplete request: no tool or no argv");
  return { pid, tool, netns, cwd, argv };
}

/** Encodes tool output as one frame for the given stream; empty text encodes to "". */
export function encodeOutput(stream: "out" | "err", text: string): string {
  if (text === "") return "";
  return `${stream === "out" ? "1" : "2"}${Buffer.byteLength(text, "utf8")}\n${text}`;
}

/** The final frame. */
export function encodeExit(code: number): string {
  return `x${code}\n`;
}

/** Splits a byte stream into "\n"-terminated UTF-8 lines, with a byte budget per line. */
export class LineSplitter {
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  /** Feeds bytes; returns complete lines (without "\n"); throws when a line exceeds `maxLine` bytes. */
  push(chunk: Buffer, maxLine: number): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      const whole = this.#pending.length === 0 ? piece : Buffer.concat([...this.#pending, piece]);
      this.#pending = [];
      this.#pendingBytes = 0;
      if (whole.length > maxLine) throw new Error(`Line too long (${whole.length} bytes)`);
      lines.push(whole.toString("utf8"));
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.#pending.push(chunk.subarray(start));
      this.#pendingBytes += chunk.length - start;
      if (this.#pendingBytes > maxLine) throw new Error(`Line too long (${this.#pendingBytes} bytes)`);
    }
    return lines;
  }
}
