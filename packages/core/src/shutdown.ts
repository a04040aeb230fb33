/** The two logger methods shutdown needs (pino's signature). */
interface StepLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Runs named shutdown steps in order, each with its own deadline and its own try/catch, so one stuck
 * step cannot keep the others from running. Resolves true when every step finished in time.
 */
export async function shutdownInOrder(
  steps: [name: string, run: () => Promise<unknown>, deadlineMs: number][],
  logger: StepLogger,
): Promise<boolean> {
  let clean = true;
  for (const [name, run, deadlineMs] of steps) {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        run(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`not done within ${deadlineMs} ms`)), deadlineMs);
        }),
      ]);
      logger.info({ step: name }, 'shutdown step done');
    } catch (err) {
      clean = false;
      logger.error({ step: name, err }, 'shutdown step failed');
    } finally {
      clearTimeout(timer);
    }
  }
  return clean;
}

/** Resolves true when `work` finished within `ms`, false when the time ran out first. */
export async function finishedWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
