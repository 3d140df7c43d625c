/** Waits for `work` at most `ms` milliseconds: its value, or undefined when time ran out first (work keeps running). */
export async function within<TValue>(
  work: Promise<TValue> | undefined,
  ms: number,
): Promise<TValue | undefined> {
  if (work === undefined) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
