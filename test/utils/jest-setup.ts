/**
 * Runs in every test file before its tests, so `npm test` prints test results, not library chatter. Each line
 * turns off one known message at its source; nothing here touches failures or the tests' own output.
 */

// The AWS SDK's one-off notice that its releases after January 2027 need Node 22: its own switch.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

// oidc-provider (a test peer) prints "Unsupported runtime" through console.warn when it is imported on Node 20,
// where it works all the same; it has no switch, so that one message is dropped. Its other development-only
// warnings are avoided by configuring the test server explicitly (test/utils/oauth-server.ts), except the
// notice that its development login and consent forms are on, which the connect-session tests need on purpose.
const QUIET = [
  'oidc-provider WARNING: Unsupported runtime',
  'oidc-provider WARNING: a quick start development-only feature devInteractions',
];
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]): void => {
  if (typeof args[0] === 'string' && QUIET.some((q) => (args[0] as string).includes(q))) return;
  warn(...args);
};
