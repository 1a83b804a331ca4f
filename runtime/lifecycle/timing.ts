import { ObjectError } from "../shared/errors.ts";

// Bounds on how long the orchestrator waits for a worker.

/** `p`'s value, or null when it fails or takes longer than `ms`. */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)));
  try {
    return await Promise.race([p.catch(() => null), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** `p`, or `fallback` once the clock passes `deadline` (epoch ms). */
export function deadlineRace<T>(p: Promise<T>, deadline: number, fallback: T): Promise<T> {
  return new Promise<T>((resolve) => {
    const timer = setTimeout(() => resolve(fallback), Math.max(0, deadline - Date.now()));
    void p.then((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

/** What a bounded wait gave: the value or error of the work, or the error saying it was late. */
export type Bounded<T> =
  { late: null; ok: true; value: T } | { late: null; ok: false; error: unknown } | { late: ObjectError };

/**
 * Waits for `work` up to `limit` ms (real time, like the CPU watchdog):
 * a call that has not settled by then is reported as `late`, with an
 * error saying what gave no answer and what that usually means.
 */
export async function bounded<T>(work: Promise<T>, limit: number, what: () => string): Promise<Bounded<T>> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ late: ObjectError }>((resolve) => {
    timer = setTimeout(() => {
      const seconds = limit >= 1000 ? `${limit / 1000} s` : `${limit} ms`;
      resolve({
        late: new ObjectError(
          `${what()} within ${seconds}: its code is waiting on something that never settles ` +
            "(a promise nothing resolves, or a call that waits on the event itself). " +
            "The event is still running.",
          500,
        ),
      });
    }, limit);
  });
  try {
    return await Promise.race([
      work.then(
        (value) => ({ late: null, ok: true as const, value }),
        (error: unknown) => ({ late: null, ok: false as const, error }),
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
