import { z } from 'zod';

const tier = z.enum(['read', 'reversible', 'destructive']);
const autonomyLevel = z.enum(['suggest', 'approve', 'notify', 'auto']);
const argValue = z.union([z.string(), z.number(), z.boolean()]);

const clearance = z.enum(['public', 'external', 'internal', 'restricted']);

function isRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

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
  /** Set when the URL serves one of Warden's own servers (`warden mcp <kind> --http`): it gets run credentials and bundled tiers. */
  bundled: z.enum(['siem', 'edr', 'intel', 'ticket', 'iam']).optional(),
});

const modelPrice = z.strictObject({
  inputPerMTok: z.number().nonnegative(),
  outputPerMTok: z.number().nonnegative(),
  cacheReadPerMTok: z.number().nonnegative().optional(),
  cacheWritePerMTok: z.number().nonnegative().optional(),
});

export const serverSchema = z.union([bundledServer, commandServer, httpServer]);

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable, e.g. ANTHROPIC_API_KEY');
const modelId = z.string().min(1).max(200);
/** Below the SDK's 21,333-token ceiling for requests that do not stream. */
const outputTokens = z.number().int().min(256).max(20_000);

/** The tools every Anthropic turn carries in full by default: the loop's own and the first reads of a triage. */
export const DEFAULT_ALWAYS_LOADED = [
  'submit_verdict',
  'load_skill',
  'read_skill_resource',
  'siem.search_events',
  'edr.process_tree',
  'intel.lookup_indicator',
];

const toolSearchSchema = z.strictObject({
  /** Defer the other tools' definitions until the model finds them with Anthropic's tool search. */
  enabled: z.boolean().default(true),
  /** Tools sent in full on every turn: `server.tool`, `server.*` or a loop tool such as `submit_verdict`. */
  alwaysLoaded: z
    .array(
      z
        .string()
        .regex(
          /^[\w-]+(\.([\w-]+|\*))?$/,
          'a tool name: server.tool, server.* or a loop tool such as submit_verdict',
        ),
    )
    .min(1, 'name at least one tool (e.g. submit_verdict): the API needs one tool loaded')
    .default(DEFAULT_ALWAYS_LOADED),
});

const subtaskModel = z.strictObject({
  model: modelId.optional(),
  maxOutputTokens: outputTokens.default(2048),
});

/** Which model investigates; secrets come only from the environment variable named here. */
const modelSchema = z
  .strictObject({
    /** `offline`: the embedded analyst (no key). `scripted` exists for tests and is not selectable here. */
    provider: z.enum(['offline', 'anthropic', 'openai-compatible']).default('offline'),
    /** When the API is unreachable, overloaded or has no key: continue with the offline analyst, or fail the run. */
    fallback: z.enum(['offline', 'none']).default('offline'),
    orchestrator: z
      .strictObject({
        model: modelId.default('claude-opus-4-8'),
        maxOutputTokens: outputTokens.default(8192),
      })
      .default({ model: 'claude-opus-4-8', maxOutputTokens: 8192 }),
    /** Narrow sub-tasks on a cheaper model; default: anthropic.subtaskModel or the openai model. */
    subtasks: z
      .strictObject({
        summarise: subtaskModel.default({ maxOutputTokens: 2048 }),
        extract_indicators: subtaskModel.default({ maxOutputTokens: 2048 }),
      })
      .default({ summarise: { maxOutputTokens: 2048 }, extract_indicators: { maxOutputTokens: 2048 } }),
    anthropic: z
      .strictObject({
        baseURL: z.url({ protocol: /^https?$/ }).optional(),
        apiKeyEnv: envName.default('ANTHROPIC_API_KEY'),
        maxRetries: z.number().int().min(0).max(10).default(4),
        /** The Haiku-class model sub-tasks use unless a sub-task names its own. */
        subtaskModel: modelId.default('claude-haiku-4-5'),
        timeoutSeconds: z.number().positive().max(3600).default(600),
        /** Deferred tool loading (tool search): tool definitions leave the per-turn prompt until used. */
        toolSearch: toolSearchSchema.default({ enabled: true, alwaysLoaded: DEFAULT_ALWAYS_LOADED }),
      })
      .default({
        apiKeyEnv: 'ANTHROPIC_API_KEY',
        maxRetries: 4,
        subtaskModel: 'claude-haiku-4-5',
        timeoutSeconds: 600,
        toolSearch: { enabled: true, alwaysLoaded: DEFAULT_ALWAYS_LOADED },
      }),
    openai: z
      .strictObject({
        baseURL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:11434/v1'),
        /** Local servers usually need no key; name the variable when yours does. */
        apiKeyEnv: envName.optional(),
        model: modelId.optional(),
        maxRetries: z.number().int().min(0).max(10).default(2),
        timeoutSeconds: z.number().positive().max(3600).default(600),
      })
      .default({ baseURL: 'http://127.0.0.1:11434/v1', maxRetries: 2, timeoutSeconds: 600 }),
  })
  .default({
    provider: 'offline',
    fallback: 'offline',
    orchestrator: { model: 'claude-opus-4-8', maxOutputTokens: 8192 },
    subtasks: { summarise: { maxOutputTokens: 2048 }, extract_indicators: { maxOutputTokens: 2048 } },
    anthropic: {
      apiKeyEnv: 'ANTHROPIC_API_KEY',
      maxRetries: 4,
      subtaskModel: 'claude-haiku-4-5',
      timeoutSeconds: 600,
      toolSearch: { enabled: true, alwaysLoaded: DEFAULT_ALWAYS_LOADED },
    },
    openai: { baseURL: 'http://127.0.0.1:11434/v1', maxRetries: 2, timeoutSeconds: 600 },
  });

export const configSchema = z.strictObject({
  /** Where Warden keeps its state (database, lab state). Relative to the working directory. */
  home: z.string().min(1).default('.warden'),
  model: modelSchema,
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
      /** Folder of Cedar policy files (`*.cedar`); the bundled `policies/` when absent. `warden audit replay --policy <dir>` sets it on a copy. */
      directory: z.string().optional(),
    })
    .default({ deny: [] }),
  /** Argument-conditioned tiers, e.g. ticket.update_status with status closed → destructive. Never from server annotations. */
  tierRules: z
    .array(
      z.strictObject({
        tool: z.string().regex(/^[\w-]+\.[\w-]+$/, 'a tool name of the form server.tool'),
        when: z.record(z.string(), z.union([argValue, z.array(argValue).min(1)])),
        tier,
      }),
    )
    .default([]),
  /** Autonomy ladder per action class (`server.tool`): suggest → approve → notify → auto. */
  autonomy: z
    .strictObject({
      /** Starting level per action class; unlisted classes take their tier's default (read auto, reversible notify, destructive approve). */
      classes: z
        .record(z.string().regex(/^[\w-]+\.[\w-]+$/, 'a key of the form server.tool'), autonomyLevel)
        .default({}),
      /** Human decisions on a class needed before it can be promoted. */
      minDecisions: z.number().int().min(1).default(20),
      /** Share of approvals (vs denials) needed for promotion. */
      minAgreement: z.number().min(0).max(1).default(0.95),
      /** A promoted class whose agreement falls below this is demoted automatically. */
      demoteBelow: z.number().min(0).max(1).default(0.85),
      /** Eval runs (`warden eval`) of the configured provider, with recall ≥ minAgreement, needed for promotion. */
      minEvalRuns: z.number().int().min(0).default(1),
    })
    .default({ classes: {}, minDecisions: 20, minAgreement: 0.95, demoteBelow: 0.85, minEvalRuns: 1 }),
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
      /** Per-identity criticality: `DOMAIN\\name`, a bare name, a `*` glob, or a group named in the inventory. */
      users: z.record(z.string().min(1), z.enum(['low', 'medium', 'high', 'critical'])).default({}),
    })
    .default({ hosts: {}, users: {} }),
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
      /** Model spend per run in US dollars, priced from `pricing`; no cap when absent. */
      maxCostUsd: z.number().nonnegative().optional(),
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
  /** Price per million tokens by model id (exact, or a prefix ending before a `-`); added to the built-in table. */
  pricing: z.record(z.string().min(1), modelPrice).default({}),
  credentials: z
    .strictObject({
      /** Life of a run's standing credential per server; the gateway renews it before it runs out. */
      ttlSeconds: z.number().int().min(30).max(3600).default(300),
    })
    .default({ ttlSeconds: 300 }),
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
  dlp: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Clearance of write sinks by `server.tool` / `server.*`; other write tools are `internal`. */
      sinks: z
        .record(z.string(), z.strictObject({ clearance }))
        .default({ 'ticket.*': { clearance: 'internal' } }),
      /** Clearance of model providers by name; unlisted: `restricted` in-process, else `external`. */
      models: z.record(z.string(), z.strictObject({ clearance })).default({}),
      /** Personal-data patterns to redact below `internal` clearance. */
      personalData: z.array(z.enum(['email', 'us-ssn', 'iban', 'phone'])).default([]),
      /** Own patterns (JavaScript regex; a `secret` named group limits what is redacted). */
      patterns: z
        .array(
          z.strictObject({
            name: z.string().regex(/^[\w-]+$/),
            regex: z.string().refine(isRegex, 'a valid JavaScript regular expression'),
            classification: clearance.default('restricted'),
          }),
        )
        .default([]),
    })
    .default({
      enabled: true,
      sinks: { 'ticket.*': { clearance: 'internal' } },
      models: {},
      personalData: [],
      patterns: [],
    }),
  /** Result fields of external tools that Warden may treat as trusted (field paths, `*` for array items). */
  provenance: z
    .strictObject({ trusted: z.record(z.string(), z.array(z.string())).default({}) })
    .default({ trusted: {} }),
  injection: z
    .strictObject({
      /** An injection signal in a run's data puts all its writes behind an approval. */
      pauseAutonomy: z.boolean().default(true),
    })
    .default({ pauseAutonomy: true }),
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
