// The `ipvl run` server: accepts shim connections on 127.0.0.1 (bash can open TCP but not Unix
// sockets, see ipvl-shim.bash), authenticates them with a per-run random token, and feeds their
// requests, in arrival order, through the command queue to the userland.

import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import net from "node:net";
import { CommandQueue } from "./command-queue.ts";
import { dispatch } from "./dispatch.ts";
import {
  authPrefix,
  encodeExit,
  encodeOutput,
  LineSplitter,
  parseRequest,
  type ShimRequest,
  unescapeField,
} from "./protocol.ts";
import { type AbortReason, defaultReadsStdin, type Userland } from "./userland.ts";

/** Longest line after authentication: bounds a request and the whole stdin of a command. */
const MAX_LINE = 64 * 1024 * 1024;
/** A client that has not authenticated and sent its request by then is dropped. */
const REQUEST_TIMEOUT_MS = 10_000;

const SIGNAL_REASONS: ReadonlySet<string> = new Set(["SIGINT", "SIGTERM", "SIGHUP"]);

/** What the server needs to serve shims. */
export interface ShimServerOptions {
  readonly userland: Userland;
  /** Tool names forwarded to `userland.run` as they are. */
  readonly tools: ReadonlySet<string>;
}

/** A listening server; `port` and `token` go to the shims through IPVL_PORT / IPVL_TOKEN. */
export class ShimServer {
  readonly port: number;
  readonly token: string;
  readonly #server: net.Server;
  readonly #options: ShimServerOptions;
  readonly #queue = new CommandQueue();
  readonly #controllers = new Set<AbortController>();
  readonly #sockets = new Set<net.Socket>();
  #idleWaiters: (() => void)[] = [];
  #closed = false;
  #shuttingDown = false;

  private constructor(server: net.Server, port: number, token: string, options: ShimServerOptions) {
    this.#server = server;
    this.port = port;
    this.token = token;
    this.#options = options;
  }

  /** Listens on an ephemeral loopback port with a fresh 256-bit token. */
  static async start(options: ShimServerOptions): Promise<ShimServer> {
    const token = randomBytes(32).toString("hex");
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, resolve);
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("Cannot listen on 127.0.0.1");
    const self = new ShimServer(server, address.port, token, options);
    server.on("connection", (socket) => self.#accept(socket));
    return self;
  }

  /** Aborts every command that is queued or running (their shims still get the final output). */
  abortAll(reason: AbortReason): void {
    for (const c of this.#controllers) c.abort(reason);
  }

  /** The script has ended: abort what runs, and start later requests already aborted. */
  shutdown(): void {
    this.#shuttingDown = true;
    this.abortAll("shutdown");
  }

  /** Number of connected shims. */
  get connections(): number {
    return this.#sockets.size;
  }

  /** Resolves true once no shim is connected, false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.#sockets.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Stops listening and drops the connections that are left. */
  async close(): Promise<void> {
    this.#closed = true;
    this.abortAll("shutdown");
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    this.#sockets.add(socket);
    const controller = new AbortController();
    const splitter = new LineSplitter();
    const prefix = authPrefix(this.token);
    let authBytes = Buffer.alloc(0);
    let state: "auth" | "request" | "stdin" | "queued" | "done" = "auth";
    let request: ShimRequest | null = null;
    let env: Readonly<Record<string, string>> = {};
    const timer = setTimeout(() => socket.destroy(), REQUEST_TIMEOUT_MS);

    const send = (frames: string) => {
      if (!socket.destroyed && socket.writable) socket.write(frames);
    };
    // Output of one tick to one stream becomes one frame: fewer frames, fewer reads in bash.
    let pendingStream: "out" | "err" = "out";
    let pendingText = "";
    const flush = () => {
      if (pendingText === "") return;
      send(encodeOutput(pendingStream, pendingText));
      pendingText = "";
    };
    const output = (stream: "out" | "err", text: string) => {
      if (text === "") return;
      if (stream !== pendingStream) flush();
      if (pendingText === "") process.nextTick(flush);
      pendingStream = stream;
      pendingText += text;
    };
    const start = (stdin: Uint8Array) => {
      state = "queued";
      const req = request!;
      this.#controllers.add(controller);
      if (this.#shuttingDown) controller.abort("shutdown");
      void this.#queue.enqueue(async (detach) => {
        // A shim that vanished before its turn never ran (like a process killed before exec), and
        // nothing runs once the server is closed (the userland may be gone).
        if (this.#closed || (controller.signal.aborted && controller.signal.reason === "disconnect")) return;
        const code = await dispatch(this.#options.userland, this.#options.tools, {
          request: req,
          env,
          stdin,
          out: (s) => output("out", s),
          err: (s) => output("err", s),
          signal: controller.signal,
          detach,
        });
        state = "done";
        this.#controllers.delete(controller);
        flush();
        send(encodeExit(code));
        socket.end();
      });
    };
    const onSignalLine = (line: string): boolean => {
      const sig = line.slice(1);
      if (line[0] !== "K" || !SIGNAL_REASONS.has(sig)) return false;
      controller.abort(sig as AbortReason);
      return true;
    };
    const onLine = (line: string): boolean => {
      switch (state) {
        case "request": {
          request = parseRequest(line);
          clearTimeout(timer); // stdin may come from a terminal: no deadline from here on
          env = readEnviron(request.pid);
          const ul = this.#options.userland;
          const wantsStdin = ul.readsStdin
            ? ul.readsStdin(request.tool, request.argv)
            : defaultReadsStdin(request.tool, request.argv);
          if (wantsStdin) {
            state = "stdin";
            send("I\n");
          } else {
            start(new Uint8Array(0));
          }
          return true;
        }
        case "stdin":
          if (!line.startsWith("I")) return onSignalLine(line);
          start(Buffer.from(unescapeField(line.slice(1)), "utf8"));
          return true;
        default:
          return onSignalLine(line);
      }
    };

    socket.on("data", (data: Buffer) => {
      try {
        let chunk = data;
        if (state === "auth") {
          // Nothing is parsed before the secret prefix has been checked (in constant time).
          authBytes = Buffer.concat([authBytes, chunk]);
          if (authBytes.length < prefix.length) {
            if (authBytes.includes(10)) socket.destroy(); // a whole line, too short to be ours
            return;
          }
          if (!timingSafeEqual(authBytes.subarray(0, prefix.length), prefix)) {
            socket.destroy();
            return;
          }
          state = "request";
          chunk = authBytes.subarray(prefix.length);
          authBytes = Buffer.alloc(0);
        }
        for (const line of splitter.push(chunk, MAX_LINE)) {
          if (!onLine(line)) {
            socket.destroy();
            return;
          }
        }
      } catch {
        socket.destroy();
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      this.#sockets.delete(socket);
      if (state !== "done") controller.abort("disconnect");
      this.#controllers.delete(controller);
      if (this.#sockets.size === 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const w of waiters) w();
      }
    });
  }
}

/** The environment a process was exec'd with; {} when it cannot be read (gone, not Linux). */
function readEnviron(pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  if (!(pid > 0)) return env;
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/environ`, "utf8");
  } catch {
    return env;
  }
  for (const entry of raw.split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}
