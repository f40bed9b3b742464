import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { IntelBackend } from '../../backends/types.js';
import { runTool, toolError, toolResult } from '../result.js';
import { indicatorTypeSchema } from '../schemas.js';
import { serverVersion } from '../version.js';
import {
  groupInfoSchema,
  indicatorVerdictSchema,
  softwareInfoSchema,
  techniqueDetailSchema,
} from './schemas.js';

const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

const needsBundle =
  'only the short sample technique list is loaded; group and software lookups need the ATT&CK STIX bundle (lab.intel.attackBundle)';

/** MCP server over a threat-intel backend: indicator reputation and the ATT&CK reference. */
export function createIntelServer(backend: IntelBackend): McpServer {
  const server = new McpServer(
    { name: 'warden-intel', version: serverVersion },
    {
      instructions:
        'Threat-intel lookups against the configured feeds and the MITRE ATT&CK reference (techniques, groups, software).',
    },
  );

  server.registerTool(
    'lookup_indicator',
    {
      title: 'Look up indicator',
      description:
        'Check an IP address, domain, URL or file hash (MD5, SHA-1, SHA-256) against the threat-intel feeds. ' +
        'IPs also match listed CIDR ranges; domains also match listed parent domains; a URL also checks its host ' +
        'and path. verdict is "malicious" when a feed lists it, "suspicious" when only suspicious-category feeds ' +
        '(dynamic DNS, PUA, parking) do, and "unknown" otherwise: unknown is not proof of benign. Each match names ' +
        'the feed, family, category, reference and the listed entry that matched. Defanged input (hxxp, [.]) is accepted.',
      inputSchema: {
        value: z
          .string()
          .min(1)
          .max(2048)
          .describe('The indicator, e.g. 203.0.113.5, evil.example, a URL or a hash'),
        type: indicatorTypeSchema.optional().describe('Indicator type; inferred from the value when absent'),
      },
      outputSchema: indicatorVerdictSchema.shape,
      annotations: { title: 'Look up indicator', ...readOnly },
    },
    ({ value, type }) => runTool(async () => toolResult(await backend.lookupIndicator(value, type))),
  );

  server.registerTool(
    'lookup_technique',
    {
      title: 'Look up ATT&CK technique',
      description:
        'Name, tactics, platforms, a short description, data sources, detection strategies and the reference URL ' +
        'of a MITRE ATT&CK technique or sub-technique, by id (T1059.001, also attack.t1059.001 from detection-rule ' +
        'tags) or by exact name ("Mshta", "Command and Scripting Interpreter: PowerShell"). source says whether ' +
        'the full STIX bundle or the short sample list answered.',
      inputSchema: {
        id: z.string().min(1).max(64).optional().describe('Technique id such as T1218.005'),
        name: z.string().min(1).max(200).optional().describe('Technique name, case-insensitive; when no id'),
      },
      outputSchema: techniqueDetailSchema.shape,
      annotations: { title: 'Look up ATT&CK technique', ...readOnly },
    },
    ({ id, name }) =>
      runTool(async () => {
        if (id === undefined && name === undefined) return toolError('give a technique id or a name');
        const technique =
          id !== undefined ? await backend.lookupTechnique(id) : await backend.findTechnique(name ?? '');
        return technique
          ? toolResult(technique)
          : toolError(`technique ${id ?? `"${name}"`} is not in the reference`);
      }),
  );

  server.registerTool(
    'lookup_group',
    {
      title: 'Look up ATT&CK group',
      description:
        'A threat group from MITRE ATT&CK by id (G0016), name or alias (APT29, Cozy Bear), case-insensitive: ' +
        'aliases, a short description, and the techniques and software ATT&CK says it uses.',
      inputSchema: { query: z.string().min(1).max(200).describe('Group id, name or alias') },
      outputSchema: groupInfoSchema.shape,
      annotations: { title: 'Look up ATT&CK group', ...readOnly },
    },
    ({ query }) =>
      runTool(async () => {
        const group = await backend.lookupGroup(query);
        if (group) return toolResult(group);
        if ((await backend.attackSource()) === 'sample-techniques') return toolError(needsBundle);
        return toolError(`no ATT&CK group with id, name or alias "${query}"`);
      }),
  );

  server.registerTool(
    'lookup_software',
    {
      title: 'Look up ATT&CK software',
      description:
        'Malware or a tool from MITRE ATT&CK by id (S0002), name or alias (Mimikatz), case-insensitive: type, ' +
        'aliases, platforms, a short description, the techniques it implements and the groups known to use it.',
      inputSchema: { query: z.string().min(1).max(200).describe('Software id, name or alias') },
      outputSchema: softwareInfoSchema.shape,
      annotations: { title: 'Look up ATT&CK software', ...readOnly },
    },
    ({ query }) =>
      runTool(async () => {
        const software = await backend.lookupSoftware(query);
        if (software) return toolResult(software);
        if ((await backend.attackSource()) === 'sample-techniques') return toolError(needsBundle);
        return toolError(`no ATT&CK software with id, name or alias "${query}"`);
      }),
  );

  return server;
}
