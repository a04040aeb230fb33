/**
 * @module pixelmill's pino logger: JSON lines, secrets redacted by field name, secrets and base64
 * image data masked inside strings, optional pino-pretty for people at a terminal.
 */
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { scrubString } from './scrub-string.js';
import { scrubValue } from './scrub-value.js';
import { REDACTED, redactPaths } from './secret-keys.js';

export interface CreateLoggerOptions {
  /** Shown as `name` on every line (service or package). */
  name: string;
  /** pino level; default `info`. */
  level?: string;
  /** Pretty-print with pino-pretty, honoured only on a TTY and outside tests. */
  pretty?: boolean;
  /** Where lines go (default stdout); tests pass a stream to capture them. */
  destination?: DestinationStream;
}

function inTest(): boolean {
  return process.env.VITEST !== undefined || process.env.NODE_ENV === 'test';
}

/**
 * Scrubs strings passed as the message and format arguments. When an error is logged without a
 * message pino copies `err.message` into `msg` after our hooks, so supply the scrubbed one here.
 */
function logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void): void {
  const [first, ...rest] = args;
  const scrubbed = rest.map((a) => (typeof a === 'string' ? scrubString(a) : scrubValue(a)));
  if (typeof first === 'string') {
    method.apply(this, [scrubString(first), ...scrubbed]);
    return;
  }
  const obj = first as { err?: unknown; msg?: unknown } | null;
  const err = first instanceof Error ? first : obj?.err;
  if (rest.length === 0 && obj?.msg === undefined && err instanceof Error) {
    scrubbed.push(scrubString(err.message));
  }
  method.apply(this, [first, ...scrubbed]);
}

export function createLogger({
  name,
  level = 'info',
  pretty = false,
  destination,
}: CreateLoggerOptions): Logger {
  const options: LoggerOptions = {
    name,
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths, censor: REDACTED },
    hooks: { logMethod },
    formatters: {
      // Runs before serializers and redaction, on the object given to each call and on bindings.
      log: (obj) => scrubValue(obj),
      bindings: (bindings) => scrubValue(bindings),
    },
    // scrubValue has already turned errors into plain objects; the default err serializer would
    // re-serialise them as `type: "Object"`.
    serializers: { err: (value: unknown) => value },
  };
  if (destination !== undefined) return pino(options, destination);
  if (pretty && process.stdout.isTTY === true && !inTest()) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino(options);
}
