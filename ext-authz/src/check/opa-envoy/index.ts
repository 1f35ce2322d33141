// The opa-envoy-plugin contract (`--mode opa-envoy`): its input document and its decision rules.
export { buildOpaEnvoyInput, parseBody, parsePathAndQuery, OPA_ENVOY_INPUT_VERSION } from './input';
export type { OpaEnvoyInputOptions, OpaEnvoyInputResult } from './input';
export { interpretOpaEnvoyDecision, ENVOY_HTTP_STATUSES } from './decision';
export type { HeaderPair, OpaEnvoyOk, OpaEnvoyDenied, OpaEnvoyResult, OpaEnvoyOutcome, OpaEnvoyDecisionErrorCode, InterpretOptions } from './decision';
export { parseQuery, pathUnescape, queryUnescape } from './url-decoding';
export { parseMultipartForm, parseMediaType } from './multipart';
