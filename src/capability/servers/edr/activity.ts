import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { EdrBackend, FileWrite, ImageLoad, ProcessAccess, RegistryWrite } from '../../backends/types.js';
import { runTool, toolError, toolResult } from '../result.js';

const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

const activityInput = {
  processGuid: z.string().optional().describe('Process GUID, braces optional'),
  host: z.string().min(1).optional().describe('Host name (short or FQDN) or IP address'),
  from: z.string().optional().describe('Earliest time, ISO-8601 UTC, inclusive'),
  to: z.string().optional().describe('Latest time, ISO-8601 UTC, inclusive'),
  limit: z.number().int().min(1).max(500).default(100).describe('Maximum records, 1-500'),
};

const origin = {
  timestamp: z.string(),
  host: z.string(),
  processGuid: z.string().nullable(),
  image: z.string().nullable(),
  eventId: z.string(),
};

const imageLoadSchema = z.object({ ...origin, imageLoaded: z.string() }) satisfies z.ZodType<ImageLoad>;
const fileWriteSchema = z.object({ ...origin, path: z.string() }) satisfies z.ZodType<FileWrite>;
const registryWriteSchema = z.object({
  ...origin,
  key: z.string(),
  value: z.string().nullable(),
}) satisfies z.ZodType<RegistryWrite>;
const processAccessSchema = z.object({
  timestamp: z.string(),
  host: z.string(),
  sourceProcessGuid: z.string().nullable(),
  sourceImage: z.string().nullable(),
  targetProcessGuid: z.string().nullable(),
  targetPid: z.number().nullable(),
  targetImage: z.string().nullable(),
  grantedAccess: z.string().nullable(),
  eventId: z.string(),
}) satisfies z.ZodType<ProcessAccess>;

const needsScope = 'give processGuid or host';

/** Registers the read-only activity views of a process or host: image loads, process access, file and registry writes. */
export function registerActivityTools(server: McpServer, backend: EdrBackend): void {
  server.registerTool(
    'image_loads',
    {
      title: 'Image loads',
      description:
        'DLLs and other images loaded (Sysmon 7) by one process or on one host, oldest first: e.g. a credential ' +
        'tool loading dbghelp.dll or a script host loading an unsigned DLL. Give processGuid, host, or both.',
      inputSchema: activityInput,
      outputSchema: { imageLoads: z.array(imageLoadSchema) },
      annotations: { title: 'Image loads', ...readOnly },
    },
    (query) =>
      runTool(async () => {
        if (query.processGuid === undefined && query.host === undefined) return toolError(needsScope);
        return toolResult({ imageLoads: await backend.imageLoads(query) });
      }),
  );

  server.registerTool(
    'process_access',
    {
      title: 'Process access',
      description:
        'Handles one process opened to another (Sysmon 10), oldest first, with the access mask: e.g. reads of ' +
        'lsass.exe memory (credential dumping). processGuid is the accessing process; filter the target by ' +
        'targetProcessGuid or a targetImage substring such as "lsass.exe". Give processGuid, host or targetProcessGuid.',
      inputSchema: {
        ...activityInput,
        targetProcessGuid: z.string().optional().describe('GUID of the process accessed'),
        targetImage: z.string().optional().describe('Substring of the accessed image path, e.g. lsass.exe'),
      },
      outputSchema: { accesses: z.array(processAccessSchema) },
      annotations: { title: 'Process access', ...readOnly },
    },
    (query) =>
      runTool(async () => {
        if (
          query.processGuid === undefined &&
          query.host === undefined &&
          query.targetProcessGuid === undefined
        ) {
          return toolError('give processGuid, host or targetProcessGuid');
        }
        return toolResult({ accesses: await backend.processAccess(query) });
      }),
  );

  server.registerTool(
    'file_writes',
    {
      title: 'File writes',
      description:
        'Files created or overwritten (Sysmon 11) by one process or on one host, oldest first: dropped payloads, ' +
        'dumps, startup-folder persistence. Give processGuid, host, or both.',
      inputSchema: activityInput,
      outputSchema: { fileWrites: z.array(fileWriteSchema) },
      annotations: { title: 'File writes', ...readOnly },
    },
    (query) =>
      runTool(async () => {
        if (query.processGuid === undefined && query.host === undefined) return toolError(needsScope);
        return toolResult({ fileWrites: await backend.fileWrites(query) });
      }),
  );

  server.registerTool(
    'registry_writes',
    {
      title: 'Registry writes',
      description:
        'Registry keys and values set (Sysmon 12-14) by one process or on one host, oldest first: Run keys, ' +
        'services, security settings turned off. Give processGuid, host, or both.',
      inputSchema: activityInput,
      outputSchema: { registryWrites: z.array(registryWriteSchema) },
      annotations: { title: 'Registry writes', ...readOnly },
    },
    (query) =>
      runTool(async () => {
        if (query.processGuid === undefined && query.host === undefined) return toolError(needsScope);
        return toolResult({ registryWrites: await backend.registryWrites(query) });
      }),
  );
}
