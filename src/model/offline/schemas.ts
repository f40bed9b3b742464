/**
 * Loose readers for tool results (shapes of src/capability/backends/types.ts): only the fields
 * the analyst uses are required, anything else passes through, anything malformed is a failure.
 */
import { z } from 'zod';

const optionalText = z.string().nullish();
const processNode = z.looseObject({
  guid: z.string(),
  pid: z.number().nullish(),
  parentGuid: optionalText,
  image: optionalText,
  commandLine: optionalText,
  startTime: optionalText,
});
export const processTree = z.looseObject({
  process: processNode,
  ancestors: z.array(processNode).default([]),
  descendants: z.array(processNode.extend({ depth: z.number().int().positive() })).default([]),
});
const processRef = z.looseObject({
  guid: z.string(),
  pid: z.number().nullish(),
  image: optionalText,
  commandLine: optionalText,
});
export const labEvent = z.looseObject({
  timestamp: optionalText,
  action: z.string(),
  process: processRef.nullish(),
  parent: processRef.nullish(),
  network: z
    .looseObject({
      destinationIp: z.string(),
      destinationPort: z.number().nullish(),
      destinationHostname: optionalText,
    })
    .nullish(),
  dns: z.looseObject({ query: z.string(), answers: z.array(z.string()).nullish() }).nullish(),
  registry: z.looseObject({ key: z.string(), value: optionalText }).nullish(),
  file: z.looseObject({ path: z.string() }).nullish(),
  message: optionalText,
  raw: z.record(z.string(), z.unknown()).nullish(),
});
export type LabEventValue = z.infer<typeof labEvent>;
export const eventPage = z.looseObject({ events: z.array(labEvent) });
export const connections = z.looseObject({
  connections: z.array(
    z.looseObject({
      processGuid: optionalText,
      image: optionalText,
      destinationIp: z.string(),
      destinationPort: z.number().nullish(),
      destinationHostname: optionalText,
    }),
  ),
});
export const hostSummary = z.looseObject({
  host: z.string(),
  criticality: z.string().default('unknown'),
  role: optionalText,
  isolated: z.boolean().default(false),
});
export const indicatorVerdict = z.looseObject({
  value: z.string(),
  verdict: z.enum(['malicious', 'unknown']).catch('unknown'),
  matches: z.array(z.looseObject({ source: z.string().catch(''), family: z.string().catch('') })).default([]),
});
export const loadedSkill = z.looseObject({ content: z.string() });
export const toolError = z.looseObject({ error: z.string() });
