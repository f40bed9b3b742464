import { parseDocument, visit } from 'yaml';
import { z } from 'zod';
import { InputError } from '../../errors.js';

const stringList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : [value]));

/** The shape of one SigmaHQ rule, as far as Warden reads it; other keys are kept untouched. */
const sigmaRuleSchema = z.looseObject({
  title: z.string().min(1),
  id: z.string().min(1),
  status: z.string().optional(),
  description: z.string().optional(),
  author: z.string().optional(),
  level: z.enum(['informational', 'low', 'medium', 'high', 'critical']).optional(),
  tags: z.array(z.string()).optional(),
  falsepositives: stringList.optional(),
  logsource: z.looseObject({
    product: z.string().optional(),
    category: z.string().optional(),
    service: z.string().optional(),
    definition: z.string().optional(),
  }),
  detection: z.looseObject({ condition: z.union([z.string(), z.array(z.string())]) }),
});

export type SigmaRule = z.infer<typeof sigmaRuleSchema>;

/** True when the YAML document is a Sigma correlation or filter rule rather than a detection rule. */
function metaRuleKind(document: Record<string, unknown>): string | undefined {
  if ('correlation' in document) return 'correlation';
  if ('filter' in document && !('detection' in document)) return 'filter';
  return undefined;
}

/** A parsed rule file: a detection rule, or a meta rule (correlation, filter) Warden does not evaluate. */
export type ParsedRuleFile = { type: 'rule'; rule: SigmaRule } | { type: 'meta'; id: string; kind: string };

/** Parses one Sigma rule file; throws InputError naming the file and the field when it is malformed. */
export function parseRule(text: string, path: string): ParsedRuleFile {
  const parsed = parseDocument(text);
  const yamlError = parsed.errors[0];
  if (yamlError) throw new InputError(`${path}: not valid YAML: ${yamlError.message}`, { cause: yamlError });
  // Sigma compares values as text: 0x1010 or 0755 written unquoted must stay as written, not become 4112 or 755.
  visit(parsed, {
    Scalar(_key, node) {
      if (typeof node.value === 'number' && node.source !== undefined && node.source !== String(node.value))
        node.value = node.source;
    },
  });
  const document: unknown = parsed.toJS();
  if (document === null || typeof document !== 'object' || Array.isArray(document))
    throw new InputError(`${path}: a Sigma rule must be a YAML mapping`);
  const record = document as Record<string, unknown>;
  const kind = metaRuleKind(record);
  if (kind) return { type: 'meta', id: String(record.id ?? ''), kind };
  const result = sigmaRuleSchema.safeParse(record);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join('.') || '(root)';
    throw new InputError(`${path}: field ${field}: ${issue?.message ?? 'invalid'}`);
  }
  return { type: 'rule', rule: result.data };
}
