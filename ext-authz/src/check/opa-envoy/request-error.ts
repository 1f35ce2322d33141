// A CheckRequest that opa-envoy-plugin's input rules cannot read (bad URL escape, `;` in a query,
// malformed form or JSON body). The plugin answers it with a denial; the message is for operators.
import { CodedError } from '../../model/errors';

export class OpaEnvoyRequestError extends CodedError<'request_parse_error'> {
  constructor(message: string) {
    super('request_parse_error', message);
  }
}
