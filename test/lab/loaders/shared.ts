import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `../shared/datasets` beside the project root, or null (with a note) when this checkout has none. */
export const sharedDatasets: string | null = (() => {
  const dir = fileURLToPath(new URL('../../../../shared/datasets/', import.meta.url));
  if (existsSync(dir)) return dir;
  process.stderr.write(`skipping tests on real data: ${dir} is absent\n`);
  return null;
})();

export const lsassCampaign =
  'security-datasets/compound/LSASS_campaign_01/metasploit_logonpasswords_lsass_memory_dump.zip';
export const truncatedTarGz = 'security-datasets/atomic/windows/persistence/host/covenant_persistwmi.tar.gz';
export const winlogbeatTarGz =
  'security-datasets/atomic/windows/defense_evasion/host/empire_enable_rdp.tar.gz';
export const smallZip =
  'security-datasets/atomic/windows/persistence/host/cmd_userinitmprlogonscript_batch.zip';
export const regressionData = 'sigma/regression_data';
