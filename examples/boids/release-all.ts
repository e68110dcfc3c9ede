/**
 * Runs every step of a teardown even when some throw, so that one failure (a buffer still
 * held elsewhere) does not leave devices and fds behind; then throws the first failure.
 * @throws whatever the first failing step threw.
 */
export function releaseAll(steps: readonly (() => void)[]): void {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      step();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw failures[0];
}
