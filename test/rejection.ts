// Test helper: the error a call that must fail rejects with, when it is of the expected class; a call that succeeds,
// or fails with anything else, fails the test (with that error).
export async function rejection<E extends Error>(p: Promise<unknown>, kind: abstract new (...args: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (e) {
    if (e instanceof kind) return e;
    throw e;
  }
  throw new Error(`expected a ${kind.name}, the call succeeded`);
}
