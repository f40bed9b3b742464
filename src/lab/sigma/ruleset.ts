import type { FlatEvent } from '../flatten.js';
import type { CompiledRule } from './compile.js';
import { applyMapping, type FieldMapping } from './logsource.js';
import { EventView } from './view.js';

/** The rules that apply to one (channel, event id) key, grouped by the field mapping they need. */
interface Bucket {
  plain: CompiledRule[];
  mapped: Map<FieldMapping, CompiledRule[]>;
}

/** A set of compiled rules indexed by logsource, so an event is only tested against rules that can apply to it. */
export interface RuleSet {
  readonly rules: readonly CompiledRule[];
  /** The rules whose logsource admits the event and whose detection matches it. */
  match(event: FlatEvent): CompiledRule[];
  /** How many rules the event would be tested against. */
  candidates(event: FlatEvent): number;
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

/** Builds a rule set; keys are `channel#eventId`, `channel#*` and `*` (rules for every Windows event). */
export function createRuleSet(rules: readonly CompiledRule[]): RuleSet {
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
  const merged = new Map<string, Bucket>();
  const lookup = (event: FlatEvent): Bucket => {
    const channel = channelOf(event);
    const id = event.EventID === undefined || event.EventID === null ? '' : String(event.EventID);
    const key = `${channel}#${id}`;
    let bucket = merged.get(key);
    if (!bucket) {
      bucket = emptyBucket();
      merge(bucket, index.get('*'));
      if (channel) {
        merge(bucket, index.get(`${channel}#*`));
        merge(bucket, index.get(key));
      }
      merged.set(key, bucket);
    }
    return bucket;
  };
  return {
    rules,
    match(event) {
      const bucket = lookup(event);
      const hits: CompiledRule[] = [];
      if (bucket.plain.length > 0) {
        const view = new EventView(event);
        for (const rule of bucket.plain) if (rule.matches(view)) hits.push(rule);
      }
      for (const [mapping, mappedRules] of bucket.mapped) {
        const view = new EventView(applyMapping(mapping, event));
        for (const rule of mappedRules) if (rule.matches(view)) hits.push(rule);
      }
      return hits;
    },
    candidates(event) {
      const bucket = lookup(event);
      let count = bucket.plain.length;
      for (const list of bucket.mapped.values()) count += list.length;
      return count;
    },
  };
}
