import { describe, expect, it } from 'vitest';
import { withSearches } from '../../bench/skills.js';
import { deferredTools, type ModelRequest, toAnthropicRequest } from '../../src/model/index.js';
import { toolSearchViolation } from './wire-server.js';

const tool = (name: string) => ({ name, description: `${name} tool`, inputSchema: { type: 'object' } });
const call = (id: string, name: string) => ({ type: 'tool_call' as const, id, name, input: {} });
const result = (callId: string, name: string) => ({
  type: 'tool_result' as const,
  callId,
  name,
  ref: `r:${callId}`,
  isError: false,
  trust: 'trusted' as const,
  value: {},
});

const toolSearch = { alwaysLoaded: ['submit_verdict', 'edr.process_tree'] };
const request: ModelRequest = {
  system: 'triage',
  tools: ['submit_verdict', 'edr.process_tree', 'edr.host_summary', 'siem.count_events'].map(tool),
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'alert' }] },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'looking' },
        call('c1', 'edr.process_tree'),
        call('c2', 'edr.host_summary'),
      ],
    },
    { role: 'user', content: [result('c1', 'edr.process_tree'), result('c2', 'edr.host_summary')] },
    { role: 'assistant', content: [call('c3', 'edr.host_summary'), call('c4', 'siem.count_events')] },
    { role: 'user', content: [result('c3', 'edr.host_summary'), result('c4', 'siem.count_events')] },
  ],
};

describe('the skills bench models tool search as the API takes it', () => {
  const searched = withSearches(request, toolSearch);
  const kinds = (index: number) =>
    searched.messages[index]?.content.map((block) =>
      block.type === 'provider'
        ? String(block.value.type)
        : `${block.type}${'name' in block ? `:${block.name}` : ''}`,
    );

  it('puts one search before the first call of each deferred tool, naming exactly the turn’s new tools', () => {
    expect(kinds(1)).toEqual([
      'text',
      'tool_call:edr.process_tree',
      'server_tool_use',
      'tool_search_tool_result',
      'tool_call:edr.host_summary',
    ]);
    expect(kinds(3)).toEqual([
      'tool_call:edr.host_summary',
      'server_tool_use',
      'tool_search_tool_result',
      'tool_call:siem.count_events',
    ]);
    const search = searched.messages[3]?.content[1];
    expect(search?.type === 'provider' && search.value.input).toEqual({ query: '^siem__count_events$' });
  });

  it('gives a conversation the Messages API accepts, with the found tools still deferred', () => {
    const { params } = toAnthropicRequest(searched, { model: 'm', maxOutputTokens: 10, toolSearch });
    expect(toolSearchViolation(params as unknown as Record<string, unknown>)).toBeNull();
    expect([...deferredTools(searched, toolSearch)]).toEqual(['edr.host_summary', 'siem.count_events']);
    // Unsearched, the same transcript could not defer the tools it calls: the provider loads them.
    expect([...deferredTools(request, toolSearch)]).toEqual([]);
  });
});
