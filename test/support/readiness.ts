/** The status `GET /readyz` answers with. */
export async function readyz(url: string): Promise<number> {
  return (await fetch(`${url}/readyz`)).status;
}

/**
 * Polls `check` every 50 ms until it holds, for up to 15 seconds; then fails
 * naming `what` it waited for. For states a fault test waits on (a node seen
 * down, seen back), never for speed.
 */
export async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}
