import type { ProcessNode, ProcessTree } from '../../capability/backends/types.js';
import { auditKeyPrefix } from '../audit-lineage.js';
import { bareGuid, shortHost } from '../events.js';
import type { LabDatabase, Row } from './database.js';

/** Cap on ancestors and descendants walked, so a malformed lineage cannot run away. */
const maxLineage = 500;

const nodeSelect = `id, epoch_ms(ts) AS ts_ms, host, user_name, process_key, process_guid, process_pid,
  process_image, process_command_line, parent_guid`;

function toNode(row: Row): ProcessNode {
  return {
    guid: String(row.process_guid),
    pid: Number(row.process_pid),
    parentGuid: row.parent_guid === null ? null : String(row.parent_guid),
    host: String(row.host),
    user: row.user_name === null ? null : String(row.user_name),
    image: String(row.process_image),
    commandLine: String(row.process_command_line),
    startTime: new Date(Number(row.ts_ms)).toISOString(),
    eventId: String(row.id),
  };
}

/**
 * Process lineage over the `processes` table (process starts with a GUID, Sysmon's or one derived
 * from Security 4688), one query per tree level. A pid resolves to a Sysmon process when there is one.
 */
export interface StoreLineage {
  byGuid(guid: string): Promise<ProcessNode | null>;
  byPid(host: string, pid: number): Promise<ProcessNode | null>;
  tree(root: ProcessNode): Promise<ProcessTree>;
}

export function createStoreLineage(database: LabDatabase): StoreLineage {
  // A GUID recorded twice (a re-sent event) resolves to its latest start, as in the in-memory index.
  const byKey = async (key: string): Promise<ProcessNode | null> => {
    const rows = await database.all(
      `SELECT ${nodeSelect} FROM processes WHERE process_key = ? ORDER BY ts DESC, seq DESC LIMIT 1`,
      [key],
    );
    return rows[0] ? toNode(rows[0]) : null;
  };

  async function ancestorsOf(node: ProcessNode): Promise<ProcessNode[]> {
    const ancestors: ProcessNode[] = [];
    const seen = new Set([bareGuid(node.guid)]);
    let current = node;
    while (current.parentGuid !== null && ancestors.length < maxLineage) {
      const key = bareGuid(current.parentGuid);
      if (seen.has(key)) break;
      const parent = await byKey(key);
      if (!parent) break;
      seen.add(key);
      ancestors.push(parent);
      current = parent;
    }
    return ancestors;
  }

  async function descendantsOf(root: ProcessNode): Promise<Array<ProcessNode & { depth: number }>> {
    const children = new Map<string, ProcessNode[]>();
    const seen = new Set([bareGuid(root.guid)]);
    let level = [bareGuid(root.guid)];
    let found = 0;
    while (level.length > 0 && found < maxLineage) {
      const rows = await database.all(
        `SELECT ${nodeSelect}, parent_key FROM processes WHERE parent_key IN (${level.map(() => '?').join(', ')})
         ORDER BY ts, seq LIMIT ${maxLineage + 1}`,
        level,
      );
      const next: string[] = [];
      for (const row of rows) {
        const key = String(row.process_key);
        if (seen.has(key)) continue;
        seen.add(key);
        found += 1;
        const parentKey = String(row.parent_key);
        children.set(parentKey, [...(children.get(parentKey) ?? []), toNode(row)]);
        next.push(key);
      }
      level = next;
    }
    const result: Array<ProcessNode & { depth: number }> = [];
    const visit = (parent: ProcessNode, depth: number): void => {
      for (const child of children.get(bareGuid(parent.guid)) ?? []) {
        if (result.length >= maxLineage) return;
        result.push({ ...child, depth });
        visit(child, depth + 1);
      }
    };
    visit(root, 1);
    return result;
  }

  return {
    byGuid: (guid) => byKey(bareGuid(guid)),
    async byPid(host, pid) {
      const rows = await database.all(
        `SELECT ${nodeSelect} FROM processes WHERE host_key = ? AND process_pid = ?::BIGINT
         ORDER BY process_key LIKE '${auditKeyPrefix}%', ts DESC, seq DESC LIMIT 1`,
        [shortHost(host), pid],
      );
      return rows[0] ? toNode(rows[0]) : null;
    },
    async tree(root) {
      return { process: root, ancestors: await ancestorsOf(root), descendants: await descendantsOf(root) };
    },
  };
}
