import type { AttackRef, GroupInfo, SoftwareInfo, TechniqueDetail } from '../../capability/backends/types.js';
import { InputError } from '../../errors.js';

/** The fields of a STIX 2.1 object (ATT&CK flavour) this module reads; everything else is ignored. */
interface StixObject {
  type: string;
  id: string;
  name?: string;
  description?: string;
  revoked?: boolean;
  x_mitre_deprecated?: boolean;
  external_references?: Array<{ source_name?: string; external_id?: string; url?: string }>;
  kill_chain_phases?: Array<{ kill_chain_name?: string; phase_name?: string }>;
  x_mitre_platforms?: string[];
  aliases?: string[];
  x_mitre_aliases?: string[];
  relationship_type?: string;
  source_ref?: string;
  target_ref?: string;
  x_mitre_analytic_refs?: string[];
  x_mitre_log_source_references?: Array<{ x_mitre_data_component_ref?: string }>;
}

/** ATT&CK objects extracted from a bundle; the parsed bundle itself can then be collected. */
export interface AttackCatalogue {
  techniques: TechniqueDetail[];
  groups: GroupInfo[];
  software: SoftwareInfo[];
}

/** Extracts techniques, groups and software (with their `uses` and detection links) from a parsed bundle. */
export function readAttackBundle(bundle: unknown, path: string): AttackCatalogue {
  const objects = (bundle as { objects?: unknown } | null)?.objects;
  if (!Array.isArray(objects) || (bundle as { type?: unknown }).type !== 'bundle') {
    throw new InputError(`${path} is not a STIX bundle (expected {"type": "bundle", "objects": [...]})`);
  }
  const stix = (objects as StixObject[]).filter((object) => typeof object?.id === 'string');
  const refs = new Map<string, AttackRef & { kind: string }>();
  const dataComponents = new Map<string, string>();
  const analytics = new Map<string, string[]>();
  const strategies = new Map<string, StixObject>();
  for (const object of stix) {
    const attackId = mitreReference(object)?.external_id;
    if (attackId && object.name) refs.set(object.id, { id: attackId, name: object.name, kind: object.type });
    if (object.type === 'x-mitre-data-component' && object.name) dataComponents.set(object.id, object.name);
    if (object.type === 'x-mitre-detection-strategy') strategies.set(object.id, object);
    if (object.type === 'x-mitre-analytic') {
      const components = (object.x_mitre_log_source_references ?? []).flatMap((source) =>
        source.x_mitre_data_component_ref ? [source.x_mitre_data_component_ref] : [],
      );
      analytics.set(object.id, components);
    }
  }

  const uses = new Map<string, Set<string>>();
  const usedBy = new Map<string, Set<string>>();
  const detectedBy = new Map<string, Set<string>>();
  const revokedBy = new Map<string, string>();
  const link = (map: Map<string, Set<string>>, from: string, to: string) => {
    let set = map.get(from);
    if (!set) {
      set = new Set();
      map.set(from, set);
    }
    set.add(to);
  };
  for (const object of stix) {
    if (object.type !== 'relationship' || !object.source_ref || !object.target_ref) continue;
    if (object.revoked || object.x_mitre_deprecated) continue;
    if (object.relationship_type === 'uses') {
      link(uses, object.source_ref, object.target_ref);
      link(usedBy, object.target_ref, object.source_ref);
    } else if (object.relationship_type === 'detects') link(detectedBy, object.target_ref, object.source_ref);
    else if (object.relationship_type === 'revoked-by') revokedBy.set(object.source_ref, object.target_ref);
  }

  const refsOf = (ids: Set<string> | undefined, kinds: readonly string[]): AttackRef[] =>
    [...(ids ?? [])]
      .flatMap((id) => {
        const ref = refs.get(id);
        return ref && kinds.includes(ref.kind) ? [{ id: ref.id, name: ref.name }] : [];
      })
      .sort((a, b) => a.id.localeCompare(b.id));

  const techniques: TechniqueDetail[] = [];
  const groups: GroupInfo[] = [];
  const software: SoftwareInfo[] = [];
  for (const object of stix) {
    const reference = mitreReference(object);
    if (!reference?.external_id || !object.name) continue;
    const common = {
      id: reference.external_id,
      name: object.name,
      description: summarise(object.description ?? ''),
      url: withSlash(reference.url ?? ''),
      deprecated: object.x_mitre_deprecated === true,
      revoked: object.revoked === true,
      source: 'attack-stix' as const,
    };
    if (object.type === 'attack-pattern') {
      const detections = [...(detectedBy.get(object.id) ?? [])].flatMap((id) => {
        const strategy = strategies.get(id);
        const ref = refs.get(id);
        return strategy && ref ? [{ strategy, ref }] : [];
      });
      const components = new Set(
        detections.flatMap(({ strategy }) =>
          (strategy.x_mitre_analytic_refs ?? []).flatMap((analytic) => analytics.get(analytic) ?? []),
        ),
      );
      techniques.push({
        ...common,
        tactics: (object.kill_chain_phases ?? []).flatMap((phase) =>
          phase.kill_chain_name === 'mitre-attack' && phase.phase_name ? [phase.phase_name] : [],
        ),
        parent: common.id.includes('.') ? (common.id.split('.')[0] ?? null) : null,
        platforms: object.x_mitre_platforms ?? [],
        dataSources: [...components].flatMap((id) => dataComponents.get(id) ?? []).sort(),
        detections: detections
          .map(({ ref }) => ({ id: ref.id, name: ref.name }))
          .sort((a, b) => a.id.localeCompare(b.id)),
        revokedBy: refs.get(revokedBy.get(object.id) ?? '')?.id ?? null,
      });
    } else if (object.type === 'intrusion-set') {
      groups.push({
        ...common,
        aliases: (object.aliases ?? []).filter((alias) => alias !== object.name),
        techniques: refsOf(uses.get(object.id), ['attack-pattern']),
        software: refsOf(uses.get(object.id), ['malware', 'tool']),
      });
    } else if (object.type === 'malware' || object.type === 'tool') {
      software.push({
        ...common,
        type: object.type,
        aliases: (object.x_mitre_aliases ?? []).filter((alias) => alias !== object.name),
        platforms: object.x_mitre_platforms ?? [],
        techniques: refsOf(uses.get(object.id), ['attack-pattern']),
        groups: refsOf(usedBy.get(object.id), ['intrusion-set']),
      });
    }
  }
  return { techniques, groups, software };
}

function mitreReference(object: StixObject) {
  return object.external_references?.find((reference) => reference.source_name === 'mitre-attack');
}

/**
 * First paragraph, without `(Citation: …)` markers and with markdown links reduced to their text:
 * what a model needs, at a fraction of the tokens.
 */
function summarise(description: string): string {
  const first = description.split(/\n\s*\n/)[0] ?? '';
  const text = first
    .replace(/\(Citation:[^)]*\)/g, '')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/<\/?code>/g, '`')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 1200 ? `${text.slice(0, 1199)}…` : text;
}

function withSlash(url: string): string {
  return url === '' || url.endsWith('/') ? url : `${url}/`;
}
