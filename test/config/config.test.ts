import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';

describe('loadConfig', () => {
  it('gives working defaults with no file', () => {
    const config = loadConfig(null, {});
    expect(config.home).toBe('.warden');
    expect(config.model.provider).toBe('offline');
    expect(Object.keys(config.servers).sort()).toEqual(['edr', 'iam', 'intel', 'siem', 'ticket']);
    expect(config.limits.maxToolCalls).toBeGreaterThan(0);
  });

  it('accepts bundled, command and URL servers and tier overrides', () => {
    const config = loadConfig(
      `
servers:
  siem: { bundled: siem, transport: memory }
  vendor:
    command: node
    args: [server.js]
    env: { TOKEN: "\${VENDOR_TOKEN}" }
  remote: { url: "http://127.0.0.1:9000/mcp" }
tiers:
  vendor.*: read
  vendor.wipe_disk: destructive
`,
      { VENDOR_TOKEN: 'abc' },
    );
    expect(config.servers.vendor).toMatchObject({ command: 'node', env: { TOKEN: 'abc' } });
    expect(config.servers.remote).toMatchObject({ url: 'http://127.0.0.1:9000/mcp' });
    expect(config.tiers['vendor.wipe_disk']).toBe('destructive');
  });

  it.each([
    ['limits:\n  maxTurns: -1\n', /limits\.maxTurns/],
    ['tiers:\n  edr.isolate_host: harmless\n', /tiers\.edr\.isolate_host/],
    ['servers:\n  siem: { bundled: splunk }\n', /servers\.siem/],
    ['modle: {}\n', /unknown key 'modle'/],
    ['home: [\n', /not valid YAML/],
    ['- a\n- b\n', /top level must be a mapping/],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${VAR} reference is the input under test
    ['servers:\n  x: { command: "${MISSING}" }\n', /MISSING is not set/],
  ])('rejects %j with a message naming the key', (text, pattern) => {
    expect(() => loadConfig(text, {})).toThrow(ConfigError);
    expect(() => loadConfig(text, {})).toThrow(pattern);
  });
});
