// Public surface of `ipvl run` / `ipvl shell`: run bash scripts whose network tools act on a
// simulated userland. See userland.ts for what the simulated side implements.

export type { Invocation } from "./dispatch.ts";
export { INTERNAL_ERROR_EXIT, isVirtualPath, NETNS_EXEC_CHECK } from "./dispatch.ts";
export type { ShimRequest } from "./protocol.ts";
export { encodeRequest, PROTOCOL_MAGIC } from "./protocol.ts";
export type { RunScriptOptions, SessionOptions } from "./session.ts";
export { runScript, runShell } from "./session.ts";
export type { SleepArgs } from "./sleep-args.ts";
export { parseSleepArgs } from "./sleep-args.ts";
export type { AbortReason, CommandContext, Userland } from "./userland.ts";
export { defaultReadsStdin, exitCodeForAbort, SIMULATED_TOOLS } from "./userland.ts";
