// The BundleError a bundle operation rejects with (fails the test when it resolves or throws another type).
import { BundleError } from '../../../ext-authz/src/policy/bundle/bundle-errors';
import { rejection } from '../../support/errors';

export const failure = (p: Promise<unknown>): Promise<BundleError> => rejection(p, BundleError);
