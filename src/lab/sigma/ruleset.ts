import type { FlatEvent } from '../flatten.js';
import type { CompiledRule } from './compile.js';
import { applyMapping, type FieldMapping } from './logsource.js';
import { NeedleIndex } from './needle-index.js';
import { type Needle, ruleNeedles } from './prefilter.js';
import { EventView } from './view.js';

/** The rules that apply to one (channel, event id) key, grouped by the field mapping they need. */
interface Bucket {
  plain: CompiledRule[];
  mapped: Map<FieldMapping, CompiledRule[]>;
}

/** Rules read through one event view, with the needle index that picks the ones an event can match. */
interface Group {
  rules: CompiledRule[];
  index: NeedleIndex | undefined;
}

/** A bucket once merged for one (channel, event id): its groups ready to run. */
interface Routed {
  plain: Group;
  mapped: Array<[FieldMapping, Group]>;
}

/** Options of a rule set. */
export interface RuleSetOptions {
  /**
   * Skip rules none of whose required literals occur in the event (default true). Only rules whose
   * condition cannot hold without one of their literals are skipped, so the matches are the same.
   */
  prefilter?: boolean;
}

/** A set of compiled rules indexed by logsource, so an event is only tested against rules that can apply to it. */
export interface RuleSet {
  readonly rules: readonly CompiledRule[];
  /** The rules whose logsource admits the event and whose detection matches it. */
  match(event: FlatEvent): CompiledRule[];
  /** How many rules the logsource routing admits for the event. */
  candidates(event: FlatEvent): number;
  /** How many of those the prefilter leaves to evaluate (all of them without the prefilter). */
  evaluated(event: FlatEvent): number;
}

function emptyBucket(): Bucket {
  return { plain: [], mapped: new Map() };
}

function add(bucket: Bucket, rule: CompiledRule, mapping: FieldMapping | undefined): void {
  if (!mapping) {
    bucket.plain.push(rule);
    return;
  }
  const list = bucket.mapped.get(mapping) ?? [];
  list.push(rule);
  bucket.mapped.set(mapping, list);
}

function merge(target: Bucket, source: Bucket | undefined): void {
  if (!source) return;
  target.plain.push(...source.plain);
  for (const [mapping, rules] of source.mapped) for (const rule of rules) add(target, rule, mapping);
}

/** Channels of events forwarded through Windows Event Forwarding, inferred from the provider. */
const providerChannels: Record<string, string> = {
  'microsoft-windows-sysmon': 'microsoft-windows-sysmon/operational',
  'microsoft-windows-security-auditing': 'security',
  'microsoft-windows-powershell': 'microsoft-windows-powershell/operational',
  powershell: 'windows powershell',
  'microsoft-windows-taskscheduler': 'microsoft-windows-taskscheduler/operational',
  'microsoft-windows-wmi-activity': 'microsoft-windows-wmi-activity/operational',
  'microsoft-windows-kernel-file': 'microsoft-windows-kernel-file/analytic',
};

/** The lowercase channel of an event; forwarded or channel-less events are placed by their provider. */
export function channelOf(event: FlatEvent): string {
  const channel = typeof event.Channel === 'string' ? event.Channel.toLowerCase() : '';
  if (channel && channel !== 'forwardedevents') return channel;
  const provider = event.Provider_Name ?? event.SourceName;
  return typeof provider === 'string' ? (providerChannels[provider.toLowerCase()] ?? channel) : channel;
}

function countPossible(group: Group, view: EventView): number {
  const { rules, index } = group;
  if (!index) return rules.length;
  index.scan(view);
  let count = 0;
  for (let position = 0; position < rules.length; position++) if (index.possible(position)) count++;
  return count;
}

function runGroup(group: Group, view: EventView, hits: CompiledRule[]): void {
  const { rules, index } = group;
  if (!index) {
    for (const rule of rules) if (rule.matches(view)) hits.push(rule);
    return;
  }
  index.scan(view);
  for (let position = 0; position < rules.length; position++) {
    const rule = rules[position] as CompiledRule;
    if (index.possible(position) && rule.matches(view)) hits.push(rule);
  }
}

/** Builds a rule set; keys are `channel#eventId`, `channel#*` and `*` (rules for every Windows event). */
export function createRuleSet(rules: readonly CompiledRule[], options: RuleSetOptions = {}): RuleSet {
  const prefilter = options.prefilter ?? true;
  const needles = new Map<CompiledRule, Needle[] | undefined>();
  const group = (list: CompiledRule[]): Group => {
    if (!prefilter || list.length === 0) return { rules: list, index: undefined };
    for (const rule of list) if (!needles.has(rule)) needles.set(rule, ruleNeedles(rule.rule));
    return { rules: list, index: new NeedleIndex(list.map((rule) => needles.get(rule))) };
  };
  const index = new Map<string, Bucket>();
  const bucketFor = (key: string) => {
    const existing = index.get(key);
    if (existing) return existing;
    const bucket = emptyBucket();
    index.set(key, bucket);
    return bucket;
  };
  for (const rule of rules) {
    if (rule.logsource.type === 'all-windows') {
      add(bucketFor('*'), rule, undefined);
      continue;
    }
    for (const target of rule.logsource.targets) {
      const ids = target.eventIds ?? ['*'];
      for (const id of ids) add(bucketFor(`${target.channel}#${id}`), rule, target.mapping);
    }
  }
  // Per (channel, id) the three buckets are merged once, lazily, so match() does one lookup.
  const merged = new Map<string, Routed>();
  const lookup = (event: FlatEvent): Routed => {
    const channel = channelOf(event);
    const id = event.EventID === undefined || event.EventID === null ? '' : String(event.EventID);
    const key = `${channel}#${id}`;
    let routed = merged.get(key);
    if (!routed) {
      const bucket = emptyBucket();
      merge(bucket, index.get('*'));
      if (channel) {
        merge(bucket, index.get(`${channel}#*`));
        merge(bucket, index.get(key));
      }
      routed = {
        plain: group(bucket.plain),
        mapped: [...bucket.mapped].map(([mapping, list]) => [mapping, group(list)]),
      };
      merged.set(key, routed);
    }
    return routed;
  };
  return {
    rules,
    match(event) {
      const routed = lookup(event);
      const hits: CompiledRule[] = [];
      if (routed.plain.rules.length > 0) runGroup(routed.plain, new EventView(event), hits);
      for (const [mapping, group] of routed.mapped)
        runGroup(group, new EventView(applyMapping(mapping, event)), hits);
      return hits;
    },
    candidates(event) {
      const routed = lookup(event);
      let count = routed.plain.rules.length;
      for (const [, group] of routed.mapped) count += group.rules.length;
      return count;
    },
    evaluated(event) {
      const routed = lookup(event);
      let count = countPossible(routed.plain, new EventView(event));
      for (const [mapping, group] of routed.mapped)
        count += countPossible(group, new EventView(applyMapping(mapping, event)));
      return count;
    },
  };
}
