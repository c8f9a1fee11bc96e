// Ordering of simulated commands. The script's commands reach the server one after the other
// (bash waits for each foreground command), but background ones (`tcpdump ... &`) overlap with
// what follows. Running commands strictly one at a time, in arrival order, makes every effect
// ordered exactly as the script wrote it; a long-running command calls `detach()` once it is set
// up (a capture registered), which lets the next command start while it keeps running.

/** A job: runs once its turn comes; may call `detach` to let the next job start early. */
export type QueuedJob = (detach: () => void) => Promise<void>;

/** FIFO of jobs, one running at a time unless detached. */
export class CommandQueue {
  #tail: Promise<void> = Promise.resolve();

  /** Appends a job; the returned promise settles when the job itself settles. */
  enqueue(job: QueuedJob): Promise<void> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    return previous.then(async () => {
      try {
        await job(release);
      } finally {
        release();
      }
    });
  }
}
