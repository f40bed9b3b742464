import { unsupported } from './unsupported.js';

/** A parsed Sigma condition. */
export type ConditionNode =
  | { type: 'and'; operands: ConditionNode[] }
  | { type: 'or'; operands: ConditionNode[] }
  | { type: 'not'; operand: ConditionNode }
  | { type: 'selection'; name: string }
  | { type: 'quantified'; quantifier: 'all' | number; pattern: string };

const tokenPattern = /\s*(\(|\)|[A-Za-z0-9_*.-]+|\S)/y;

function tokenize(condition: string): string[] {
  if (condition.includes('|')) unsupported(`aggregation condition (|) is not supported: ${condition}`);
  const tokens: string[] = [];
  tokenPattern.lastIndex = 0;
  while (tokenPattern.lastIndex < condition.length) {
    const match = tokenPattern.exec(condition);
    if (!match) break;
    const token = match[1];
    if (token !== undefined) tokens.push(token);
  }
  return tokens;
}

/** Recursive-descent parser: or > and > not > primary, with `N of` / `all of` quantifiers. */
class ConditionParser {
  private position = 0;
  constructor(
    private readonly tokens: string[],
    private readonly source: string,
  ) {}

  parse(): ConditionNode {
    const node = this.parseOr();
    if (this.position < this.tokens.length) this.fail(`unexpected ${this.tokens[this.position]}`);
    return node;
  }

  private peek(): string | undefined {
    return this.tokens[this.position];
  }

  private keyword(): string | undefined {
    return this.peek()?.toLowerCase();
  }

  private fail(message: string): never {
    return unsupported(`condition "${this.source}": ${message}`);
  }

  private parseOr(): ConditionNode {
    const operands = [this.parseAnd()];
    while (this.keyword() === 'or') {
      this.position++;
      operands.push(this.parseAnd());
    }
    return operands.length === 1 ? (operands[0] as ConditionNode) : { type: 'or', operands };
  }

  private parseAnd(): ConditionNode {
    const operands = [this.parseNot()];
    while (this.keyword() === 'and') {
      this.position++;
      operands.push(this.parseNot());
    }
    return operands.length === 1 ? (operands[0] as ConditionNode) : { type: 'and', operands };
  }

  private parseNot(): ConditionNode {
    if (this.keyword() === 'not') {
      this.position++;
      return { type: 'not', operand: this.parseNot() };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): ConditionNode {
    const token = this.peek();
    if (token === undefined) return this.fail('ended early');
    this.position++;
    if (token === '(') {
      const node = this.parseOr();
      if (this.peek() !== ')') this.fail('missing )');
      this.position++;
      return node;
    }
    const lower = token.toLowerCase();
    if (lower === 'near') this.fail('near is not supported');
    if (['and', 'or', ')', 'of'].includes(lower)) this.fail(`unexpected ${token}`);
    if (this.keyword() === 'of') {
      this.position++;
      const pattern = this.peek();
      if (pattern === undefined) this.fail('of without a target');
      this.position++;
      const quantifier = lower === 'all' ? 'all' : lower === 'any' ? 1 : Number(lower);
      if (quantifier !== 'all' && !(Number.isInteger(quantifier) && quantifier > 0))
        this.fail(`bad quantifier ${token}`);
      return { type: 'quantified', quantifier, pattern };
    }
    if (!/^[A-Za-z0-9_.-]+$/.test(token)) this.fail(`unexpected ${token}`);
    return { type: 'selection', name: token };
  }
}

/** Parses a Sigma condition; aggregations (`|`) and `near` are reported as unsupported. */
export function parseCondition(condition: string): ConditionNode {
  return new ConditionParser(tokenize(condition), condition).parse();
}

/**
 * The selection names a quantifier target (`them`, `selection_*`) stands for. As in pySigma, the pattern
 * is matched from the start of the name (`*` is any run), and names starting with `_` are never included.
 */
export function expandTarget(pattern: string, names: string[]): string[] {
  const visible = names.filter((name) => !name.startsWith('_'));
  if (pattern.toLowerCase() === 'them') return visible;
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const regex = new RegExp(`^${source}`);
  return visible.filter((name) => regex.test(name));
}
