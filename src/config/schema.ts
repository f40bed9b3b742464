import { z } from 'zod';

const tier = z.enum(['read', 'reversible', 'destructive']);

const serverName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*$/, 'server names are lower-case letters, digits, _ or -, starting with a letter');

const bundledServer = z.strictObject({
  bundled: z.enum(['siem', 'edr', 'intel', 'ticket', 'iam']),
  /** `stdio` spawns `warden mcp <name>` as a child process; `memory` links it in-process. */
  transport: z.enum(['stdio', 'memory']).default('stdio'),
});

const commandServer = z.strictObject({
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().optional(),
});

const httpServer = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string(), z.string()).default({}),
});

export const serverSchema = z.union([bundledServer, commandServer, httpServer]);

export const configSchema = z.strictObject({
  /** Where Warden keeps its state (database, lab state). Relative to the working directory. */
  home: z.string().min(1).default('.warden'),
  model: z
    .strictObject({
      provider: z.enum(['offline']).default('offline'),
    })
    .default({ provider: 'offline' }),
  servers: z.record(serverName, serverSchema).default({
    siem: { bundled: 'siem', transport: 'stdio' },
    edr: { bundled: 'edr', transport: 'stdio' },
    intel: { bundled: 'intel', transport: 'stdio' },
    ticket: { bundled: 'ticket', transport: 'stdio' },
    iam: { bundled: 'iam', transport: 'stdio' },
  }),
  /** Tier overrides by `server.tool` or `server.*`; exact names win over wildcards. */
  tiers: z
    .record(z.string().regex(/^[\w-]+\.([\w-]+|\*)$/, 'a key of the form server.tool or server.*'), tier)
    .default({}),
  policy: z
    .strictObject({
      /** Tools (`server.tool` or `server.*`) the agent may never call. */
      deny: z.array(z.string()).default([]),
    })
    .default({ deny: [] }),
  approvals: z
    .strictObject({
      ttlMinutes: z.number().int().positive().max(10_080).default(240),
      /** Distinct people who must approve a destructive action on a critical asset. */
      criticalApprovers: z.number().int().min(1).max(5).default(2),
    })
    .default({ ttlMinutes: 240, criticalApprovers: 2 }),
  assets: z
    .strictObject({
      /** Inventory YAML (hosts → criticality, owner, role); default: the shipped sample lab's. */
      inventory: z.string().min(1).optional(),
      /** Per-host criticality, over the inventory. */
      hosts: z.record(z.string(), z.enum(['low', 'medium', 'high', 'critical'])).default({}),
    })
    .default({ hosts: {} }),
  limits: z
    .strictObject({
      maxTurns: z.number().int().positive().max(200).default(20),
      maxToolCalls: z.number().int().positive().max(1000).default(60),
      /** Writes per run by tier; reads are bounded by maxToolCalls. */
      maxActions: z
        .strictObject({
          reversible: z.number().int().nonnegative().max(100).default(10),
          destructive: z.number().int().nonnegative().max(100).default(3),
        })
        .default({ reversible: 10, destructive: 3 }),
      /** Model tokens (input + output) per run. */
      maxTokens: z.number().int().positive().default(400_000),
      /** Active wall time per run, not counting time paused for an approval. */
      maxSeconds: z.number().positive().max(86_400).default(900),
      toolTimeoutSeconds: z.number().positive().max(3600).default(60),
      /** Largest tool result (JSON characters) shown to the model; the audit trail keeps the whole result. */
      maxResultChars: z.number().int().min(1000).default(24_000),
    })
    .default({
      maxTurns: 20,
      maxToolCalls: 60,
      maxActions: { reversible: 10, destructive: 3 },
      maxTokens: 400_000,
      maxSeconds: 900,
      toolTimeoutSeconds: 60,
      maxResultChars: 24_000,
    }),
  control: z
    .strictObject({
      /** A verdict below this confidence is escalated to a human and no write follows it. */
      minConfidence: z.number().min(0).max(1).default(0.5),
    })
    .default({ minConfidence: 0.5 }),
  lab: z
    .strictObject({
      intel: z
        .strictObject({
          /** MITRE ATT&CK Enterprise STIX 2.1 bundle; without it, techniques come from the shipped list. */
          attackBundle: z.string().min(1).optional(),
          /** maltrail `trails/static` trees (`<category>/<family>.txt`), searched recursively. */
          trailDirs: z.array(z.string().min(1)).default([]),
          /** Own feeds in the trail format of examples/lab/README.md (IPs, CIDRs, domains, URLs, hashes). */
          feedDirs: z.array(z.string().min(1)).default([]),
          /** Keep the shipped sample feeds besides the configured ones. */
          includeSampleFeeds: z.boolean().default(true),
        })
        .default({ trailDirs: [], feedDirs: [], includeSampleFeeds: true }),
      iam: z
        .strictObject({
          /** Inventory-style YAML with a `groups:` section (examples/lab/README.md). */
          groupsFile: z.string().min(1).optional(),
        })
        .default({}),
      sigma: z
        .strictObject({
          /** Values of `%name%` placeholders for rules using the `expand` modifier (e.g. known_cdcs: [DC01, DC02]). */
          placeholders: z.record(z.string().min(1), z.array(z.string())).default({}),
        })
        .default({ placeholders: {} }),
    })
    .default({
      intel: { trailDirs: [], feedDirs: [], includeSampleFeeds: true },
      iam: {},
      sigma: { placeholders: {} },
    }),
  skills: z
    .strictObject({
      /** Extra skill directories, besides the bundled `skills/`. */
      directories: z.array(z.string()).default([]),
    })
    .default({ directories: [] }),
});

export type WardenConfig = z.infer<typeof configSchema>;
export type ServerConfig = z.infer<typeof serverSchema>;
export type Tier = z.infer<typeof tier>;
