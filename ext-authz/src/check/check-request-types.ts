// The decoded shapes of envoy.service.auth.v3 CheckRequest / CheckResponse as proto-loader produces and
// accepts them with LOADER_OPTIONS (lowerCamelCase names, int64 as strings, enums as names).

export interface DecodedTimestamp {
  seconds?: string;
  nanos?: number;
}

export interface DecodedSocketAddress {
  address?: string;
  portValue?: number;
  protocol?: string;
}

export interface DecodedPeer {
  address?: { socketAddress?: DecodedSocketAddress; pipe?: { path?: string }; envoyInternalAddress?: unknown };
  service?: string;
  labels?: Record<string, string>;
  principal?: string;
  certificate?: string;
}

export interface DecodedHeaderValue {
  key?: string;
  value?: string;
  rawValue?: Uint8Array;
}

export interface DecodedHttpRequest {
  id?: string;
  method?: string;
  headers?: Record<string, string>;
  headerMap?: { headers?: DecodedHeaderValue[] };
  path?: string;
  host?: string;
  scheme?: string;
  query?: string;
  fragment?: string;
  size?: string;
  protocol?: string;
  body?: string;
  rawBody?: Uint8Array;
}

/** google.protobuf.Struct as protobufjs decodes it (fields → Value with one kind set). */
export interface DecodedStruct {
  fields?: Record<string, DecodedValue>;
}
export interface DecodedValue {
  nullValue?: string | number;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: DecodedStruct;
  listValue?: { values?: DecodedValue[] };
}

export interface DecodedMetadata {
  filterMetadata?: Record<string, DecodedStruct>;
  typedFilterMetadata?: Record<string, { typeUrl?: string; value?: Uint8Array }>;
}

export interface DecodedAttributeContext {
  source?: DecodedPeer;
  destination?: DecodedPeer;
  request?: { time?: DecodedTimestamp; http?: DecodedHttpRequest };
  contextExtensions?: Record<string, string>;
  metadataContext?: DecodedMetadata;
  routeMetadataContext?: DecodedMetadata;
  tlsSession?: { sni?: string };
}

export interface DecodedCheckRequest {
  attributes?: DecodedAttributeContext;
}

export interface HeaderValueOption {
  header: { key: string; value: string };
  appendAction: 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';
}

/** The CheckResponse object handed to grpc-js for encoding. */
export interface CheckResponseObject {
  status: { code: number; message?: string };
  okResponse?: {
    headers: HeaderValueOption[];
    headersToRemove: string[];
    responseHeadersToAdd: HeaderValueOption[];
  };
  deniedResponse?: {
    status: { code: number };
    headers: HeaderValueOption[];
    body: string;
  };
  dynamicMetadata?: DecodedStruct;
}
