// The BundleError a bundle operation rejects with (fails the test when it resolves or throws another type).
import { BundleError } from '../../../ext-authz/src/policy/bundle/bundle-errors';

export async function failure(p: Promise<unknown>): Promise<BundleError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof BundleError) return e;
    throw e;
  }
  throw new Error('expected a BundleError');
}
