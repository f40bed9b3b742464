import type { WardenConfig } from '../config/index.js';

export type ModelPrice = WardenConfig['pricing'][string];

/** The token counts a model response reports (the model layer's TokenUsage). */
export interface MeteredUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
}

/**
 * US dollars per million tokens, from Anthropic's published list prices. Cache reads and writes
 * default to 10% and 125% of the input price when a row leaves them out. Deterministic local
 * providers cost nothing.
 */
export const defaultPricing: Readonly<Record<string, ModelPrice>> = {
  'claude-opus-4-8': { inputPerMTok: 5, outputPerMTok: 25, cacheReadPerMTok: 0.5, cacheWritePerMTok: 6.25 },
  'claude-opus-4-7': { inputPerMTok: 5, outputPerMTok: 25, cacheReadPerMTok: 0.5, cacheWritePerMTok: 6.25 },
  'claude-opus-4-6': { inputPerMTok: 5, outputPerMTok: 25, cacheReadPerMTok: 0.5, cacheWritePerMTok: 6.25 },
  'claude-opus-4-5': { inputPerMTok: 5, outputPerMTok: 25, cacheReadPerMTok: 0.5, cacheWritePerMTok: 6.25 },
  'claude-opus-4-1': { inputPerMTok: 15, outputPerMTok: 75, cacheReadPerMTok: 1.5, cacheWritePerMTok: 18.75 },
  'claude-opus-4': { inputPerMTok: 15, outputPerMTok: 75, cacheReadPerMTok: 1.5, cacheWritePerMTok: 18.75 },
  'claude-sonnet-4': { inputPerMTok: 3, outputPerMTok: 15, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75 },
  'claude-3-7-sonnet': { inputPerMTok: 3, outputPerMTok: 15, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75 },
  'claude-haiku-4-5': { inputPerMTok: 1, outputPerMTok: 5, cacheReadPerMTok: 0.1, cacheWritePerMTok: 1.25 },
  'claude-3-5-haiku': { inputPerMTok: 0.8, outputPerMTok: 4, cacheReadPerMTok: 0.08, cacheWritePerMTok: 1 },
  offline: { inputPerMTok: 0, outputPerMTok: 0 },
  scripted: { inputPerMTok: 0, outputPerMTok: 0 },
  compromised: { inputPerMTok: 0, outputPerMTok: 0 },
};

export interface PriceLookup {
  price: ModelPrice;
  /** The table row used, or null when the model is unknown and priced at the dearest row. */
  row: string | null;
}

export interface ResponseCost {
  costUsd: number;
  /** Set when the model was not in the table: says which price was assumed. */
  note: string | null;
}

export interface CostMeter {
  priceOf(model: string): PriceLookup;
  costOf(model: string, usage: MeteredUsage): ResponseCost;
}

/**
 * Prices model responses from the built-in table plus `pricing` in warden.yaml (whose rows win).
 * A row matches a model id exactly, or as a prefix followed by `-` (`claude-sonnet-4` matches
 * `claude-sonnet-4-5-20250929`); the longest row wins. An unknown model is charged at the
 * dearest row, so a cost cap errs on the side of stopping, and the audit event says so.
 */
export function createCostMeter(pricing: Readonly<Record<string, ModelPrice>> = {}): CostMeter {
  const table: Record<string, ModelPrice> = { ...defaultPricing, ...pricing };
  const rows = Object.keys(table).sort((a, b) => b.length - a.length);
  const weight = (price: ModelPrice) => price.inputPerMTok + price.outputPerMTok;
  const dearest = Object.entries(table).reduce((worst, entry) =>
    weight(entry[1]) > weight(worst[1]) ? entry : worst,
  );
  const priceOf = (model: string): PriceLookup => {
    const row = rows.find((candidate) => model === candidate || model.startsWith(`${candidate}-`));
    return row ? { price: table[row] as ModelPrice, row } : { price: dearest[1], row: null };
  };
  return {
    priceOf,
    costOf(model, usage) {
      const { price, row } = priceOf(model);
      const perToken = (perMTok: number) => perMTok / 1_000_000;
      const costUsd =
        usage.inputTokens * perToken(price.inputPerMTok) +
        usage.outputTokens * perToken(price.outputPerMTok) +
        (usage.cacheReadTokens ?? 0) * perToken(price.cacheReadPerMTok ?? price.inputPerMTok * 0.1) +
        (usage.cacheWriteTokens ?? 0) * perToken(price.cacheWritePerMTok ?? price.inputPerMTok * 1.25);
      return {
        costUsd,
        note: row
          ? null
          : `model ${model} is not in the price table; charged at the dearest row (${dearest[0]}); add it under pricing in warden.yaml`,
      };
    },
  };
}
