// A bounded wait on work that cannot itself be cancelled (a scenario's setup or teardown).

/** Runs `step`, rejecting with `onTimeout()` after `ms` (the step itself goes on unobserved). */
export async function withTimeout<T> (step: () => T | Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      Promise.resolve().then(step),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms)
      })
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** Resolves after `ms`, or at once when `ms` <= 0. */
export function delay (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, Math.max(0, ms)))
}
