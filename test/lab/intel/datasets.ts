import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `../shared/datasets` beside the project: public data the tests use when present (see its README). */
export const datasetsDir = fileURLToPath(new URL('../../../../shared/datasets/', import.meta.url));
export const attackBundlePath = join(datasetsDir, 'attack', 'enterprise-attack.json');
export const maltrailDir = join(datasetsDir, 'maltrail', 'trails', 'static');

/** True when both the ATT&CK bundle and the maltrail trails are there; otherwise says why tests skip. */
export function hasIntelDatasets(): boolean {
  const present = existsSync(attackBundlePath) && existsSync(maltrailDir);
  if (!present) console.warn(`skipping dataset-backed intel tests: ${datasetsDir} is absent`);
  return present;
}
