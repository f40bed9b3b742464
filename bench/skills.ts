/**
 * Input tokens per investigation: progressive skills (the first prompt lists names and
 * descriptions; the model loads a skill or a resource through a tool) versus every skill inline
 * in the system prompt. Counted from recorded transcripts of real runs: the offline analyst
 * triages the sample alerts and alerts built from the sample incident's own events, on the
 * embedded lab, and every model request is recorded. Prints JSON.
 *
 * Token method: each request is rendered as the Anthropic provider sends it (wire tool names and
 * schemas, delimited and datamarked data) and its JSON ({ system, messages, tools }) counted as
 * ceil(characters / 4), an approximation of BPE tokenisers on English and JSON (no Anthropic
 * tokenizer is available offline). Input tokens of an investigation = the sum over its turns,
 * since every turn resends the conversation. The inline variant is the same transcript with
 * every SKILL.md (and, in the second figure, every resource) appended to the system prompt,
 * the skill index and the two skill tools removed, and the load/read calls and their results
 * dropped from the conversation: what the same investigation would have sent without them.
 *
 * Tool search (deferred tool loading, the Anthropic provider's default): every variant is also
 * counted as it goes with `model.anthropic.toolSearch` (the default always-loaded tools). The
 * offline analyst does not search, so its transcript is given the searches a model would make:
 * before the first call of a deferred tool in a turn, one `server_tool_use` whose regex names that
 * turn's new deferred tools exactly and the `tool_search_tool_result` that references them. Per
 * turn the count is then the system prompt (with its list of deferred tool names), the messages
 * (search blocks included), the always-loaded tool definitions, the tool-search tool with
 * SEARCH_TOOL_ALLOWANCE tokens for the description the API adds to it, and the definition of each
 * tool a search in the conversation so far referenced (the API expands it there). A model that
 * searched with looser patterns would load more definitions than it calls: exact names are the
 * best case, `search_loads_two_unused_tools` prices two more definitions per search.
 * The all-tools-every-turn figures are printed as before (`all_tools_every_turn`).
 *
 * Usage: node --import tsx bench/skills.ts [--always-loaded a,b,c] [--search-allowance N]
 * (the always-loaded tools of the count with tool search, default the config's; the allowance, default 500)
 */
import { readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { type Alert, parseAlerts, startRun } from '../src/agent/index.js';
import { createGateway } from '../src/capability/gateway/index.js';
import { configSchema } from '../src/config/index.js';
import { bundledSkillsDirectory, loadSkills, readSkillResource, type Skill } from '../src/knowledge/index.js';
import {
  createOfflineAnalyst,
  deferredTools,
  type Message,
  type ModelProvider,
  type ModelRequest,
  type ProviderBlock,
  TOOL_SEARCH_TOOL,
  type ToolSearchOptions,
  toAnthropicRequest,
  toWireName,
} from '../src/model/index.js';
import { openStore } from '../src/store/index.js';
import { tempHome } from '../test/helpers.js';

const skillTools = new Set(['load_skill', 'read_skill_resource']);

/** Tokens of the request as the Anthropic provider puts it on the wire (system, messages, tools). */
export function approximateTokens(request: ModelRequest): number {
  const { params } = toAnthropicRequest(request, { model: 'bench', maxOutputTokens: 4096 });
  return Math.ceil(
    JSON.stringify({ system: params.system, messages: params.messages, tools: params.tools }).length / 4,
  );
}

/** The same count split by part: what every turn resends before any conversation (tools, system) and the conversation. */
function partTokens(request: ModelRequest): { tools: number; system: number; messages: number } {
  const { params } = toAnthropicRequest(request, { model: 'bench', maxOutputTokens: 4096 });
  const count = (value: unknown) => Math.ceil(JSON.stringify(value ?? []).length / 4);
  return { tools: count(params.tools), system: count(params.system), messages: count(params.messages) };
}

/**
 * Tokens the API adds for the tool-search tool's own description, on every turn it is offered.
 * Anthropic does not publish the figure; this is an allowance, not a measurement.
 */
const SEARCH_TOOL_ALLOWANCE = 500;

/** How the count with tool search is made. */
interface SearchModel {
  toolSearch: ToolSearchOptions;
  /** Tokens per turn for the search tool's description (SEARCH_TOOL_ALLOWANCE unless asked otherwise). */
  allowance: number;
  /** Definitions of tools never called that each search also loads (0: searches name exactly the tools used). */
  unusedPerSearch: number;
}

/**
 * The request had the model searched for each deferred tool before its first call: one search per
 * assistant turn, inserted before the turn's first call of a deferred tool no search found yet,
 * whose regex names exactly those tools and whose result references them.
 */
export function withSearches(request: ModelRequest, toolSearch: ToolSearchOptions): ModelRequest {
  const deferred = deferredTools({ tools: request.tools, messages: [] }, toolSearch);
  const found = new Set<string>();
  let searches = 0;
  const messages = request.messages.map((message): Message => {
    if (message.role !== 'assistant') return message;
    const fresh = [
      ...new Set(
        message.content.flatMap((block) =>
          block.type === 'tool_call' && deferred.has(block.name) && !found.has(block.name)
            ? [block.name]
            : [],
        ),
      ),
    ];
    if (fresh.length === 0) return message;
    for (const name of fresh) found.add(name);
    const at = message.content.findIndex((block) => block.type === 'tool_call' && fresh.includes(block.name));
    const id = `srvtoolu_bench${String(++searches).padStart(2, '0')}`;
    const wire = fresh.map(toWireName);
    const search: ProviderBlock[] = [
      {
        type: 'provider',
        wire: 'anthropic',
        value: {
          type: 'server_tool_use',
          id,
          name: TOOL_SEARCH_TOOL.name,
          input: { query: wire.map((name) => `^${name}$`).join('|') },
        },
      },
      {
        type: 'provider',
        wire: 'anthropic',
        value: {
          type: 'tool_search_tool_result',
          tool_use_id: id,
          content: {
            type: 'tool_search_tool_search_result',
            tool_references: wire.map((tool_name) => ({ type: 'tool_reference', tool_name })),
          },
        },
      },
    ];
    return {
      ...message,
      content: [...message.content.slice(0, at), ...search, ...message.content.slice(at)],
    };
  });
  return { ...request, messages };
}

/** Tool definitions the model sees in a turn (always loaded, the search tool with its allowance, those found) and the rest. */
interface SearchCount extends Parts {
  total: number;
  searches: number;
}

/** What the model reads of a request sent with tool search, by part (see the header). */
function searchTokens(request: ModelRequest, model: SearchModel): SearchCount {
  const { toolSearch, unusedPerSearch } = model;
  const { params } = toAnthropicRequest(request, { model: 'bench', maxOutputTokens: 4096, toolSearch });
  const count = (value: unknown) => Math.ceil(JSON.stringify(value ?? []).length / 4);
  const tools = (params.tools ?? []) as unknown as Array<Record<string, unknown>>;
  const deferred = tools.filter((tool) => tool.defer_loading === true);
  const loaded = tools.filter((tool) => tool.defer_loading !== true);
  const blocks = params.messages.flatMap((message) =>
    Array.isArray(message.content) ? (message.content as unknown as Array<Record<string, unknown>>) : [],
  );
  const referenced = new Set(
    blocks
      .filter((block) => block.type === 'tool_search_tool_result')
      .flatMap(
        (block) =>
          (block.content as { tool_references?: Array<{ tool_name: string }> }).tool_references ?? [],
      )
      .map((reference) => reference.tool_name),
  );
  const searches = blocks.filter((block) => block.type === 'server_tool_use').length;
  const found = deferred
    .filter((tool) => referenced.has(String(tool.name)))
    .map(({ defer_loading: _flag, ...tool }) => tool);
  // Two definitions of the unused deferred tools per search, from the largest (the pessimistic case).
  const unused = deferred
    .filter((tool) => !referenced.has(String(tool.name)))
    .map((tool) => count(tool))
    .sort((a, b) => b - a)
    .slice(0, unusedPerSearch * searches)
    .reduce((sum, tokens) => sum + tokens, 0);
  const allowance = tools.some((tool) => tool.name === TOOL_SEARCH_TOOL.name) ? model.allowance : 0;
  const toolTokens = count(loaded) + count(found) + allowance + unused;
  const system = count(params.system);
  const messages = count(params.messages);
  return { total: toolTokens + system + messages, tools: toolTokens, system, messages, searches };
}

function recording(provider: ModelProvider, requests: ModelRequest[]): ModelProvider {
  return {
    name: provider.name,
    generate: (request, options) => {
      requests.push(structuredClone(request));
      return provider.generate(request, options);
    },
  };
}

/** The same request had every skill been inline: no index, no skill tools, no load/read exchanges. */
export function inlineVariant(request: ModelRequest, inlineText: string): ModelRequest {
  const skillCalls = new Set<string>();
  for (const message of request.messages)
    for (const block of message.content)
      if (block.type === 'tool_call' && skillTools.has(block.name)) skillCalls.add(block.id);
  const messages: Message[] = request.messages
    .map((message) => ({
      role: message.role,
      content: message.content.filter(
        (block) =>
          !(block.type === 'data' && block.label === 'skills') &&
          !(block.type === 'tool_call' && skillCalls.has(block.id)) &&
          !(block.type === 'tool_result' && skillCalls.has(block.callId)),
      ),
    }))
    .filter((message) => message.content.length > 0);
  return {
    ...request,
    system: `${request.system}\n\n# Runbooks\n\n${inlineText}`,
    messages,
    tools: request.tools.filter((tool) => !skillTools.has(tool.name)),
  };
}

async function inlineTexts(skills: readonly Skill[]): Promise<{ bodies: string; withResources: string }> {
  const bodies = skills.map((skill) => skill.content).join('\n\n');
  const parts: string[] = [];
  for (const skill of skills) {
    parts.push(skill.content);
    for (const resource of skill.resources) {
      const read = await readSkillResource(skill, resource.path);
      if (read.type === 'ok') parts.push(`## ${skill.name}/${resource.path}\n\n${read.text}`);
    }
  }
  return { bodies, withResources: parts.join('\n\n') };
}

/** Alerts built from events of the sample incident, as a detection rule would raise them. */
export function labAlerts(): Alert[] {
  const events = readFileSync('examples/lab/sample-incident.jsonl', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const pick = (predicate: (event: Record<string, unknown>) => boolean) => events.find(predicate) ?? {};
  const time = (event: Record<string, unknown>) =>
    String(event['@timestamp'] ?? event.TimeCreated ?? '2026-11-18T09:00:00Z');
  const make = (id: string, title: string, tags: string[], event: Record<string, unknown>): Alert => ({
    id,
    title,
    severity: 'medium',
    time: time(event),
    source: 'bench',
    host: String(event.Hostname ?? '').split('.')[0],
    rule: { title, tags },
    event,
  });
  return [
    make(
      'lab-whoami',
      'Whoami /all run by a script host',
      ['attack.discovery', 'attack.t1033'],
      pick((e) => String(e.Image).endsWith('whoami.exe')),
    ),
    make(
      'lab-runkey',
      'Run key written by PowerShell',
      ['attack.persistence', 'attack.t1547.001'],
      pick((e) => e.EventID === 13 && String(e.TargetObject).includes('\\Run\\')),
    ),
    make(
      'lab-wsmprovhost',
      'WinRM remote shell host started',
      ['attack.lateral_movement', 'attack.t1021.006'],
      pick((e) => String(e.Image).toLowerCase().endsWith('wsmprovhost.exe')),
    ),
    make(
      'lab-failed-logon',
      'Failed logon of a retired admin account',
      ['attack.credential_access', 'attack.t1110.001'],
      pick((e) => e.EventID === 4625 && e.TargetUserName === 'adm.backup'),
    ),
    make(
      'lab-wmiprvse',
      'WMI provider host on a domain controller',
      ['attack.execution', 'attack.t1047'],
      pick((e) => String(e.Image).toLowerCase().endsWith('wmiprvse.exe')),
    ),
  ];
}

/** Input tokens of one investigation, summed over its turns, for each way of giving the model its skills. */
interface Figures {
  progressive: number;
  inline_skill_md: number;
  inline_with_resources: number;
  /** The same transcript with no skill text at all: what the skills themselves cost is the difference. */
  no_skills: number;
}

interface Investigation {
  alert: string;
  verdict: string;
  turns: number;
  skill_loads: number;
  tool_searches: number;
  all_tools_every_turn: Figures;
  tool_search: Figures;
  /** Had each search also loaded two tools the model did not call (looser patterns than exact names). */
  tool_search_two_unused_per_search: Figures;
}

type Method = 'all_tools_every_turn' | 'tool_search' | 'tool_search_two_unused_per_search';

interface Parts {
  tools: number;
  system: number;
  messages: number;
}

/** A count of one request: the whole and its parts. */
type Counter = (request: ModelRequest) => Parts & { total: number };

function addParts(into: Parts, part: Parts): void {
  into.tools += part.tools;
  into.system += part.system;
  into.messages += part.messages;
}

const round = (value: number) => Math.round(value * 100) / 100;

/** Means per investigation, where the progressive figure goes, and the inline / progressive ratios. */
function summarise(items: readonly Figures[], parts: Parts, turns: number) {
  const n = items.length;
  const total = (key: keyof Figures) => items.reduce((sum, item) => sum + item[key], 0);
  const skillCost = (key: keyof Figures) => total(key) - total('no_skills');
  const ratio = (key: keyof Figures) => round(total(key) / total('progressive'));
  const skillRatio = (key: keyof Figures) => round(skillCost(key) / skillCost('progressive'));
  return {
    mean_input_tokens_per_investigation: {
      progressive: Math.round(total('progressive') / n),
      inline_skill_md: Math.round(total('inline_skill_md') / n),
      inline_with_resources: Math.round(total('inline_with_resources') / n),
      no_skills: Math.round(total('no_skills') / n),
    },
    skill_input_tokens_per_investigation: {
      progressive: Math.round(skillCost('progressive') / n),
      inline_skill_md: Math.round(skillCost('inline_skill_md') / n),
      inline_with_resources: Math.round(skillCost('inline_with_resources') / n),
    },
    /** Where the progressive figure goes: tool definitions and the system prompt are resent on every turn. */
    progressive_parts_per_investigation: {
      tool_definitions: Math.round(parts.tools / n),
      system: Math.round(parts.system / n),
      messages: Math.round(parts.messages / n),
      tool_definitions_per_turn: Math.round(parts.tools / Math.max(1, turns)),
    },
    ratio_inline_over_progressive: {
      whole_request: { skill_md: ratio('inline_skill_md'), with_resources: ratio('inline_with_resources') },
      skill_tokens: {
        skill_md: skillRatio('inline_skill_md'),
        with_resources: skillRatio('inline_with_resources'),
      },
      target: 3,
    },
  };
}

export async function measureSkillTokens(
  options: { alwaysLoaded?: string[]; searchAllowance?: number } = {},
) {
  const home = tempHome('warden-bench-skills-');
  const config = configSchema.parse({
    servers: Object.fromEntries(
      ['siem', 'edr', 'intel', 'ticket'].map((name) => [name, { bundled: name, transport: 'memory' }]),
    ),
  });
  const store = await openStore({ home });
  const gateway = await createGateway({ config, home });
  const { skills } = await loadSkills([bundledSkillsDirectory]);
  const inline = await inlineTexts(skills);
  const sample = ['mshta-powershell', 'admin-powershell', 'rundll32-user-dll'].flatMap((name) =>
    parseAlerts(readFileSync(`examples/alerts/${name}.json`, 'utf8'), name),
  );
  const toolSearch: ToolSearchOptions = {
    alwaysLoaded: options.alwaysLoaded ?? config.model.anthropic.toolSearch.alwaysLoaded,
  };
  const allowance = options.searchAllowance ?? SEARCH_TOOL_ALLOWANCE;
  const exact: SearchModel = { toolSearch, allowance, unusedPerSearch: 0 };
  const counters: Record<Method, Counter> = {
    all_tools_every_turn: (request) => ({ total: approximateTokens(request), ...partTokens(request) }),
    tool_search: (request) => searchTokens(withSearches(request, toolSearch), exact),
    tool_search_two_unused_per_search: (request) =>
      searchTokens(withSearches(request, toolSearch), { ...exact, unusedPerSearch: 2 }),
  };
  const variants: Record<keyof Figures, (request: ModelRequest) => ModelRequest> = {
    progressive: (request) => request,
    inline_skill_md: (request) => inlineVariant(request, inline.bodies),
    inline_with_resources: (request) => inlineVariant(request, inline.withResources),
    no_skills: (request) => ({ ...inlineVariant(request, ''), system: request.system }),
  };
  const investigations: Investigation[] = [];
  const parts: Record<Method, Parts> = {
    all_tools_every_turn: { tools: 0, system: 0, messages: 0 },
    tool_search: { tools: 0, system: 0, messages: 0 },
    tool_search_two_unused_per_search: { tools: 0, system: 0, messages: 0 },
  };
  let turns = 0;
  try {
    for (const alert of [...sample, ...labAlerts()]) {
      const requests: ModelRequest[] = [];
      const provider = recording(createOfflineAnalyst(), requests);
      const outcome = await startRun({ store, gateway, provider, skills, config }, alert);
      const loads = (await store.audit.list(outcome.runId)).filter(
        (event) => event.type === 'skill-load',
      ).length;
      turns += requests.length;
      const figures = (method: Method): Figures => {
        const count = counters[method];
        for (const request of requests) addParts(parts[method], count(request));
        const sum = (variant: keyof Figures) =>
          requests.reduce((total, request) => total + count(variants[variant](request)).total, 0);
        return {
          progressive: sum('progressive'),
          inline_skill_md: sum('inline_skill_md'),
          inline_with_resources: sum('inline_with_resources'),
          no_skills: sum('no_skills'),
        };
      };
      const last = requests.at(-1);
      investigations.push({
        alert: alert.id,
        verdict: outcome.verdict?.verdict ?? outcome.status,
        turns: requests.length,
        skill_loads: loads,
        tool_searches: last ? searchTokens(withSearches(last, toolSearch), exact).searches : 0,
        all_tools_every_turn: figures('all_tools_every_turn'),
        tool_search: figures('tool_search'),
        tool_search_two_unused_per_search: figures('tool_search_two_unused_per_search'),
      });
    }
  } finally {
    await gateway.close();
    await store.close();
    rmSync(home, { recursive: true, force: true });
  }
  const n = investigations.length;
  const method = (name: Method) =>
    summarise(
      investigations.map((item) => item[name]),
      parts[name],
      turns,
    );
  const pessimistic = method('tool_search_two_unused_per_search');
  return {
    method:
      'JSON of { system, messages, tools } of each model request as the Anthropic provider sends it, tokens = ceil(chars / 4); summed over the turns of each recorded run; with tool search, only the tool definitions the model is shown (see the header)',
    skills: skills.length,
    skill_text_tokens: {
      index_only: Math.ceil(
        JSON.stringify(Object.fromEntries(skills.map(({ name, description }) => [name, description])))
          .length / 4,
      ),
      skill_md_all: Math.ceil(inline.bodies.length / 4),
      with_resources_all: Math.ceil(inline.withResources.length / 4),
    },
    investigations,
    tool_search: {
      always_loaded: toolSearch.alwaysLoaded,
      search_tool_allowance_tokens_per_turn: allowance,
      searches_per_investigation: round(
        investigations.reduce((sum, item) => sum + item.tool_searches, 0) / n,
      ),
      ...method('tool_search'),
      two_unused_per_search: {
        mean_input_tokens_per_investigation: pessimistic.mean_input_tokens_per_investigation,
        ratio_inline_over_progressive: pessimistic.ratio_inline_over_progressive.whole_request,
      },
    },
    all_tools_every_turn: method('all_tools_every_turn'),
    load_average_1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

function flag(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const alwaysLoaded = flag('always-loaded')?.split(',').filter(Boolean);
  const allowance = flag('search-allowance');
  if (allowance !== undefined && !/^\d+$/.test(allowance))
    throw new Error(`--search-allowance: a whole number of tokens, e.g. 0 or 500 (got ${allowance})`);
  const figures = await measureSkillTokens({
    ...(alwaysLoaded ? { alwaysLoaded } : {}),
    ...(allowance !== undefined ? { searchAllowance: Number(allowance) } : {}),
  });
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
}
