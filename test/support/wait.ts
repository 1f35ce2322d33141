// Polling for a condition in tests, bounded: the condition is checked every `everyMs` until it holds or
// `ms` have passed, then the test fails naming what it waited for. One helper instead of a copy per file.
export async function waitFor(pred: () => boolean | Promise<boolean>, ms = 5000, what = 'condition', everyMs = 20): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`not reached within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
