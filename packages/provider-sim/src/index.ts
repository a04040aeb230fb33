// Public API of @pixelmill/provider-sim.
export { createSimApp } from './app.js';
export { optionsFromEnv } from './env.js';
export type { LimitRule, LimitTable } from './limits.js';
export { makePng, pngSize } from './png.js';
export { type RunningSim, startSim } from './server.js';
export type { BatchConfig, FaultRates, SimConfig, SimOptions, SimState } from './state.js';
export type { KeyStats, SimStats } from './stats.js';
