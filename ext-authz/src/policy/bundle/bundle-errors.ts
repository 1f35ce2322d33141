// OPA bundle failures (reading, limits, signature verification, download): one class, a union of stable
// codes, and the bundle file the error is about when there is one. Messages name files and fields,
// never a key, a token or file contents.
import { CodedError } from '../../model/errors';

export type BundleErrorCode =
  // reading and layout
  | 'bundle_unreadable'
  | 'bundle_archive_invalid'
  | 'bundle_too_large'
  | 'bundle_file_too_large'
  | 'bundle_too_many_files'
  | 'bundle_path_invalid'
  | 'bundle_duplicate_entry'
  | 'bundle_entry_type'
  | 'bundle_manifest_invalid'
  | 'bundle_data_invalid'
  | 'bundle_data_conflict'
  | 'bundle_root_violation'
  | 'bundle_wasm_invalid'
  | 'bundle_delta_unsupported'
  // signatures (OPA bundle signing rules)
  | 'bundle_signature_missing'
  | 'bundle_verification_key_missing'
  | 'bundle_signatures_invalid'
  | 'bundle_key_id_missing'
  | 'bundle_key_unknown'
  | 'bundle_key_invalid'
  | 'bundle_signature_invalid'
  | 'bundle_scope_mismatch'
  | 'bundle_hash_algorithm'
  | 'bundle_digest_mismatch'
  | 'bundle_file_unsigned'
  | 'bundle_file_missing'
  // downloading
  | 'bundle_download_failed'
  | 'bundle_http_status'
  | 'bundle_activation_failed';

export const BUNDLE_ERROR_CODES: readonly BundleErrorCode[] = [
  'bundle_unreadable', 'bundle_archive_invalid', 'bundle_too_large', 'bundle_file_too_large', 'bundle_too_many_files',
  'bundle_path_invalid', 'bundle_duplicate_entry', 'bundle_entry_type', 'bundle_manifest_invalid', 'bundle_data_invalid',
  'bundle_data_conflict', 'bundle_root_violation', 'bundle_wasm_invalid', 'bundle_delta_unsupported',
  'bundle_signature_missing', 'bundle_verification_key_missing', 'bundle_signatures_invalid', 'bundle_key_id_missing',
  'bundle_key_unknown', 'bundle_key_invalid', 'bundle_signature_invalid', 'bundle_scope_mismatch', 'bundle_hash_algorithm',
  'bundle_digest_mismatch', 'bundle_file_unsigned', 'bundle_file_missing',
  'bundle_download_failed', 'bundle_http_status', 'bundle_activation_failed',
];

export class BundleError extends CodedError<BundleErrorCode> {
  /** The bundle-relative file the error is about (`src/decision.rego`), when there is one. */
  readonly file: string | undefined;

  constructor(code: BundleErrorCode, message: string, file?: string) {
    super(code, file !== undefined && !message.startsWith(file) ? `${file}: ${message}` : message);
    this.file = file;
  }
}

/** Any thrown value → a BundleError (unknown failures keep only the error's class name, not its text). */
export function asBundleError(e: unknown, fallback: BundleErrorCode): BundleError {
  if (e instanceof BundleError) return e;
  const name = e instanceof Error ? e.name : typeof e;
  return new BundleError(fallback, `unexpected ${name}`);
}
