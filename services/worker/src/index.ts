/** What other workspace packages may use: the metric registry (infra checks its dashboards against it). */

/** What other packages (benchmarks) may use of the worker: the output QA building blocks. */
export { evaluateQa } from './generate/qa/checks.js';
export { dhash } from './generate/qa/dhash.js';
export { inspectImage } from './generate/qa/inspect.js';
export { decodePreview, maxColourStdev, previewImage } from './generate/qa/preview.js';
export { defaultQaThresholds } from './generate/qa/thresholds.js';
export { createWorkerMetrics, type WorkerMetrics } from './metrics/worker-metrics.js';
