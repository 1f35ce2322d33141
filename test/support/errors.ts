// The error an operation fails with, of the type the test expects: the test fails when the operation
// succeeds or fails with something else (that error is rethrown as it is, so its message shows).
type ErrorClass<E> = abstract new (...args: never[]) => E;

export function thrown<E extends Error>(fn: () => unknown, type: ErrorClass<E>): E {
  try {
    fn();
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error(`expected a ${type.name}`);
}

export async function rejection<E extends Error>(p: Promise<unknown>, type: ErrorClass<E>): Promise<E> {
  try {
    await p;
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error(`expected a ${type.name}`);
}
