import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { IntelBackend } from '../../backends/types.js';
import { runTool, toolError, toolResult } from '../result.js';
import { indicatorTypeSchema } from '../schemas.js';
import { serverVersion } from '../version.js';

const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

/** MCP server over a threat-intel backend: indicator reputation and ATT&CK technique reference. */
export function createIntelServer(backend: IntelBackend): McpServer {
  const server = new McpServer(
    { name: 'warden-intel', version: serverVersion },
    { instructions: 'Threat-intel lookups against the configured feeds and the ATT&CK technique reference.' },
  );

  server.registerTool(
    'lookup_indicator',
    {
      title: 'Look up indicator',
      description:
        'Check an IP address, domain, URL or file hash (MD5, SHA-1, SHA-256) against the threat-intel feeds. ' +
        'Domains also match listed parent domains; a URL also checks its host. verdict is "malicious" when a feed ' +
        'lists it (matches name the feed, malware family and reference) and "unknown" otherwise: unknown is not ' +
        'proof of benign. Defanged input (hxxp, [.]) is accepted.',
      inputSchema: {
        value: z
          .string()
          .min(1)
          .max(2048)
          .describe('The indicator, e.g. 203.0.113.5, evil.example, a URL or a hash'),
        type: indicatorTypeSchema.optional().describe('Indicator type; inferred from the value when absent'),
      },
      outputSchema: {
        value: z.string(),
        type: indicatorTypeSchema,
        verdict: z.enum(['malicious', 'unknown']),
        matches: z.array(
          z.object({ source: z.string(), family: z.string(), reference: z.string().nullable() }),
        ),
      },
      annotations: { title: 'Look up indicator', ...readOnly },
    },
    ({ value, type }) => runTool(async () => toolResult(await backend.lookupIndicator(value, type))),
  );

  server.registerTool(
    'lookup_technique',
    {
      title: 'Look up ATT&CK technique',
      description:
        'Name, tactics, a short description and the reference URL of a MITRE ATT&CK technique or sub-technique ' +
        '(e.g. T1059.001, also accepted as attack.t1059.001 from detection-rule tags).',
      inputSchema: { id: z.string().min(1).max(64).describe('Technique id such as T1218.005') },
      outputSchema: {
        id: z.string(),
        name: z.string(),
        tactics: z.array(z.string()),
        description: z.string(),
        url: z.string(),
      },
      annotations: { title: 'Look up ATT&CK technique', ...readOnly },
    },
    ({ id }) =>
      runTool(async () => {
        const technique = await backend.lookupTechnique(id);
        return technique ? toolResult(technique) : toolError(`technique ${id} is not in the reference`);
      }),
  );

  return server;
}
