import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Alert } from '../../src/agent/alert.js';
import { parseAlerts, startRun } from '../../src/agent/index.js';
import { createGateway, type Gateway } from '../../src/capability/gateway/index.js';
import { configSchema } from '../../src/config/index.js';
import { bundledSkillsDirectory, loadSkills, type Skill } from '../../src/knowledge/index.js';
import { createScriptedProvider, type ModelRequest, type ToolCallBlock } from '../../src/model/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { tempHome } from '../helpers.js';

const alert = parseAlerts(readFileSync('examples/alerts/mshta-powershell.json', 'utf8'), 'mshta')[0] as Alert;
const config = configSchema.parse({ servers: {} });
let home: string;
let store: Store;
let gateway: Gateway;
let skills: Skill[];

beforeAll(async () => {
  home = tempHome();
  store = await openStore({ home });
  gateway = await createGateway({ config, home, connections: [] });
  skills = (await loadSkills([bundledSkillsDirectory])).skills;
});
afterAll(async () => {
  await gateway?.close();
  await store?.close();
  rmSync(home, { recursive: true, force: true });
});

function call(id: string, name: string, input: Record<string, unknown>): ToolCallBlock {
  return { type: 'tool_call', id, name, input };
}

function lastResults(request: ModelRequest) {
  return (request.messages.at(-1)?.content ?? []).flatMap((block) =>
    block.type === 'tool_result' ? [block] : [],
  );
}

describe('progressive disclosure of skills', () => {
  test('the first request carries names and descriptions only; bodies and resources come through audited tools', async () => {
    const lsass = skills.find((skill) => skill.name === 'lsass-credential-dumping');
    const checklist = lsass?.resources.find((resource) => resource.path === 'checklist.yaml');
    if (!lsass || !checklist) throw new Error('bundled lsass skill or its checklist is missing');
    const script = createScriptedProvider((request, turn) => {
      if (turn === 0)
        return {
          content: [
            call('c1', 'load_skill', { name: lsass.name }),
            call('c1b', 'load_skill', { name: 'no-such-runbook' }),
          ],
        };
      if (turn === 1)
        return {
          content: [
            call('c2', 'read_skill_resource', { skill: lsass.name, path: 'checklist.yaml' }),
            call('c3', 'read_skill_resource', { skill: lsass.name, path: '../environment/assets.yaml' }),
            call('c3b', 'read_skill_resource', { skill: 'no-such-runbook', path: 'checklist.yaml' }),
          ],
        };
      const refs = lastResults(request).map((block) => block.ref);
      return {
        content: [
          call('c4', 'submit_verdict', {
            verdict: 'suspicious',
            confidence: 0.6,
            summary: 'read the runbook',
            techniques: [],
            evidence: [{ claim: 'runbook checklist read', refs: refs.slice(0, 1) }],
            recommendedActions: [],
          }),
        ],
      };
    });
    const outcome = await startRun({ store, gateway, provider: script, skills, config }, alert);
    expect(outcome.status).toBe('completed');

    const first = script.requests[0];
    const shown = JSON.stringify({ system: first?.system, messages: first?.messages });
    for (const skill of skills) {
      expect(shown).toContain(JSON.stringify(skill.name));
      expect(shown).toContain(JSON.stringify(skill.description));
      const body =
        skill.content
          .split('\n---\n')[1]
          ?.trim()
          .split('\n')
          .find((line) => line.length > 40) ?? '';
      expect(body.length).toBeGreaterThan(40);
      expect(shown).not.toContain(JSON.stringify(body).slice(1, -1));
    }
    expect(shown).not.toContain('checklist.yaml');
    expect(first?.tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['load_skill', 'read_skill_resource']),
    );

    const [loaded, notInIndex] = lastResults(script.requests[1] as ModelRequest);
    // Skill names are plain strings in both tools' schemas (the index lists them): the loop refuses others.
    expect(notInIndex).toMatchObject({ isError: true, value: { error: 'unknown_skill' } });
    const skillTools = (first?.tools ?? []).filter((tool) =>
      ['load_skill', 'read_skill_resource'].includes(tool.name),
    );
    expect(skillTools).toHaveLength(2);
    for (const tool of skillTools) expect(JSON.stringify(tool.inputSchema)).not.toContain('enum');
    // The model gets the body and the resource list; the hashes go to the audit trail only, and
    // neither the front matter (its name and description are the index the first message shows) nor
    // the name the call gave is repeated.
    expect(loaded?.value).toEqual({
      content: lsass.body,
      resources: lsass.resources.map(({ path, size }) => ({ path, size })),
    });
    expect(lsass.body.startsWith('# ')).toBe(true);
    expect(lsass.content.endsWith(lsass.body)).toBe(true);
    expect(lsass.body).not.toContain(lsass.description);
    expect(lsass.body).not.toMatch(/^(license|allowed-tools|metadata):/m);
    expect((loaded?.value as { resources?: unknown[] } | undefined)?.resources).toContainEqual({
      path: 'checklist.yaml',
      size: checklist.size,
    });
    const [read, refused, unknown] = lastResults(script.requests[2] as ModelRequest);
    // The read tool's skill is a plain string (the index and load_skill list the names): the loop refuses others.
    expect(unknown).toMatchObject({ isError: true, value: { error: 'unknown_skill' } });
    expect(String((unknown?.value as { message?: string } | undefined)?.message)).toContain('skill index');
    // The file's text alone: the skill and path are the call's own arguments.
    expect(read).toMatchObject({ isError: false, value: { content: expect.any(String) } });
    expect(Object.keys((read?.value ?? {}) as object)).toEqual(['content']);
    expect(String((read?.value as { content?: string } | undefined)?.content)).toContain('lsass-handles');
    expect(refused).toMatchObject({ isError: true, value: { error: 'invalid_path' } });

    const events = await store.audit.list(outcome.runId);
    const loads = events.filter((event) => event.type === 'skill-load').map((event) => event.data);
    expect(loads).toEqual([
      expect.objectContaining({ name: lsass.name, hash: lsass.hash }),
      expect.objectContaining({
        name: lsass.name,
        resource: 'checklist.yaml',
        hash: checklist.hash,
        skillHash: lsass.hash,
      }),
    ]);
    expect(events.find((event) => event.id === refused?.ref)).toMatchObject({
      type: 'tool-call-result',
      data: expect.objectContaining({
        isError: true,
        value: expect.objectContaining({ error: 'invalid_path' }),
      }),
    });
  });
});
