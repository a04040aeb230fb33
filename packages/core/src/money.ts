/** Money is summed in Redis as integer micro-dollars (HINCRBY), never as floats that drift. */
export const toMicros = (usd: number): number => Math.round(usd * 1_000_000);
export const fromMicros = (micros: number): number => Math.round(micros) / 1_000_000;
