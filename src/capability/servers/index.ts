export type { BundledServerName, BundledServerOptions } from './bundled.js';
export {
  bundledServerNames,
  connectBundledServer,
  createBundledServer,
  serveBundledStdio,
} from './bundled.js';
export { credentialRefusedCode, guardToolCalls, readOnlyToolsOf } from './credential-guard.js';
export { createEdrServer } from './edr/server.js';
export type { BundledHttpOptions, ServedHttp } from './http.js';
export { serveBundledHttp } from './http.js';
export { createIamServer } from './iam/server.js';
export { createIntelServer } from './intel/server.js';
export { createSiemServer } from './siem/server.js';
export { createTicketServer } from './ticket/server.js';
