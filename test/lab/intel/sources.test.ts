import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createIntelFromSources,
  intelSourcesFrom,
  loadAttackReference,
  sampleFeedDir,
} from '../../../src/lab/intel/index.js';

describe('intel sources from configuration', () => {
  it('keeps the sample feeds first unless turned off and resolves paths against the base dir', () => {
    expect(intelSourcesFrom()).toEqual({ trailDirs: [], feedDirs: [sampleFeedDir] });
    expect(
      intelSourcesFrom(
        {
          attackBundle: 'attack.json',
          trailDirs: ['trails'],
          feedDirs: ['/feeds'],
          includeSampleFeeds: false,
        },
        '/etc/warden',
      ),
    ).toEqual({
      attackBundle: resolve('/etc/warden/attack.json'),
      trailDirs: ['/etc/warden/trails'],
      feedDirs: ['/feeds'],
    });
  });

  it('falls back to the shipped technique list when the bundle is missing, and says so', async () => {
    const loaded = loadAttackReference('/nonexistent/enterprise-attack.json');
    expect(loaded.reference.source).toBe('sample-techniques');
    expect(loaded.reference.counts.groups).toBe(0);
    const intel = createIntelFromSources({
      attackBundle: '/nonexistent/enterprise-attack.json',
      trailDirs: [],
      feedDirs: [],
    });
    expect(await intel.lookupTechnique('T1218.005')).toMatchObject({
      name: 'Mshta',
      source: 'sample-techniques',
    });
    expect(await intel.attackSource()).toBe('sample-techniques');
    expect(await intel.lookupGroup('APT29')).toBeNull();
  });
});
