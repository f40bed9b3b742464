import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { wireSchema } from '../../src/model/wire.js';

describe('wireSchema', () => {
  it('drops keywords that constrain nothing: $schema, ±2^53 bounds, string property names, empty extra-property schemas', () => {
    const schema = wireSchema({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        count: { type: 'integer', minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER },
        limit: { type: 'integer', minimum: 1, maximum: 500 },
        args: { type: 'object', propertyNames: { type: 'string' }, additionalProperties: {} },
        open: { type: 'object', additionalProperties: true },
        items: { type: 'array', items: { type: 'object', additionalProperties: {} } },
      },
    });
    expect(schema).toEqual({
      type: 'object',
      properties: {
        count: { type: 'integer' },
        limit: { type: 'integer', minimum: 1, maximum: 500 },
        args: { type: 'object' },
        open: { type: 'object' },
        items: { type: 'array', items: { type: 'object' } },
      },
    });
  });

  it('drops a description that only lists the values its enum lists, and keeps one that says more', () => {
    const schema = wireSchema({
      type: 'object',
      properties: {
        status: {
          type: 'string',
          enum: ['open', 'in_progress', 'closed'],
          description: 'open, in_progress or closed',
        },
        kind: { type: 'string', enum: ['ip', 'domain'], description: 'Indicator type; inferred when absent' },
        level: { type: 'string', enum: ['low', 'high'], description: 'low, medium or high' },
      },
    });
    expect(schema.properties).toEqual({
      status: { type: 'string', enum: ['open', 'in_progress', 'closed'] },
      kind: { type: 'string', enum: ['ip', 'domain'], description: 'Indicator type; inferred when absent' },
      level: { type: 'string', enum: ['low', 'high'], description: 'low, medium or high' },
    });
  });

  it('keeps what does constrain, and never touches property names, enum or default values', () => {
    const input = {
      type: 'object',
      properties: {
        additionalProperties: { type: 'string' },
        propertyNames: { type: 'object', additionalProperties: false },
        minimum: { type: 'number', default: Number.MIN_SAFE_INTEGER },
        options: { type: 'object', default: { additionalProperties: {} }, propertyNames: { pattern: '^x' } },
        either: {
          anyOf: [
            { type: 'object', additionalProperties: {} },
            { type: 'string', minLength: 1 },
          ],
        },
      },
      required: ['additionalProperties'],
      additionalProperties: false,
    };
    const schema = wireSchema(input);
    expect(schema).toEqual({
      ...input,
      properties: {
        ...input.properties,
        either: { anyOf: [{ type: 'object' }, { type: 'string', minLength: 1 }] },
      },
    });
  });

  it('sends what zod generates for a record of arguments as a plain object, the rest unchanged', () => {
    const generated = z.toJSONSchema(
      z.object({
        tool: z.string().regex(/^[\w-]+\.[\w-]+$/),
        args: z.record(z.string(), z.unknown()),
        reason: z.string().min(1).max(2000),
      }),
    ) as Record<string, unknown>;
    expect(JSON.stringify(generated)).toContain('propertyNames');
    const { $schema: _ignored, ...rest } = generated;
    const properties = rest.properties as Record<string, unknown>;
    expect(wireSchema(generated)).toEqual({
      ...rest,
      properties: { ...properties, args: { type: 'object' } },
    });
  });
});
