// The release, for `--version`, callback_proxy_build_info, the OpenTelemetry resource and decision-log
// labels. Dependency-free so `--version` loads nothing else.
export const VERSION = '0.1.0';
