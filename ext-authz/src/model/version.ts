// The release, for `--version`, build info and decision-log labels. Dependency-free on purpose: the CLI
// imports it before anything else, and `--version` must not load the service (test/deploy checks it
// equals package.json's version and the Helm chart's appVersion).
export const VERSION = '0.1.0';
