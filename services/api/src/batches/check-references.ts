/**
 * @module The reference_images of a batch, checked at acceptance: http(s) URLs through the same SSRF
 * guard as webhooks (scheme, literal addresses, every address a host name resolves to), bucket keys
 * as complete keys under the tenant's root. Each distinct host is resolved once per batch, a few at
 * a time, while the rest of the body is read; `settled()` waits for the answers before the verdict.
 */
import { type FieldProblem, isUnderRoot, objectKeyProblems, tenantRoot } from '@pixelmill/core';
import { assertPublicUrl, type LookupAll } from '@pixelmill/net-guard';
import pLimit from 'p-limit';
import type { Locate } from './resolve-items.js';

/** Host names resolved at the same time within one acceptance (dns.lookup uses libuv's 4 threads). */
const LOOKUP_CONCURRENCY = 8;
/** A host not answered by then is refused: a slow resolver must not hold the request open. */
const LOOKUP_TIMEOUT_MS = 10_000;

export interface ReferenceCheckOptions {
  tenantId: string;
  /** PIXELMILL_WEBHOOK_ALLOW_PRIVATE: private addresses allowed (demo, tests); schemes still checked. */
  allowPrivate: boolean;
  /** The system resolver when absent. */
  lookup?: LookupAll | undefined;
  report: (problems: FieldProblem[]) => void;
  /** Problems reported at most: past that, further paths of a refused host are not kept. */
  maxProblems: number;
  /** Defaults to LOOKUP_TIMEOUT_MS. */
  lookupTimeoutMs?: number;
}

/** A host still being resolved keeps the fields that named it, to report them if it is refused. */
type HostVerdict = { refused: string | null } | { waiting: string[] };

const URL_REF = /^https?:\/\//i;
const ANY_SCHEME = /^([a-z][a-z0-9+.-]*):/i;

export class ReferenceChecks {
  private readonly hosts = new Map<string, HostVerdict>();
  private readonly pending: Promise<void>[] = [];
  private readonly limit = pLimit(LOOKUP_CONCURRENCY);
  private readonly root: string;

  constructor(private readonly opts: ReferenceCheckOptions) {
    this.root = tenantRoot(opts.tenantId);
  }

  /** Checks one item's references; problems are reported now or once their host is answered. */
  check(refs: readonly string[] | undefined, locate: Locate): void {
    for (const [i, ref] of (refs ?? []).entries()) {
      const path = locate(`reference_images[${i}]`);
      if (URL_REF.test(ref)) this.checkUrl(ref, path);
      else this.checkKey(ref, path);
    }
  }

  /** Waits for every host being resolved (their problems are reported by then). */
  async settled(): Promise<void> {
    while (this.pending.length > 0) await this.pending.shift();
  }

  private checkKey(ref: string, path: string): void {
    const scheme = ANY_SCHEME.exec(ref)?.[1];
    if (scheme !== undefined) {
      this.opts.report([{ path, message: `URL scheme ${scheme.toLowerCase()}: is not http or https` }]);
      return;
    }
    const problems = objectKeyProblems(ref);
    if (!isUnderRoot(ref, this.root)) {
      problems.unshift(`A bucket key must be a full key under this tenant's root (${this.root}...)`);
    }
    if (problems.length > 0) this.opts.report([{ path, message: problems.join('; ') }]);
  }

  private checkUrl(ref: string, path: string): void {
    let host: string;
    try {
      host = new URL(ref).hostname;
    } catch {
      this.opts.report([{ path, message: 'URL is not a valid absolute URL' }]);
      return;
    }
    const known = this.hosts.get(host);
    if (known === undefined) {
      this.hosts.set(host, { waiting: [path] });
      this.pending.push(this.resolve(host, ref));
    } else if ('waiting' in known) {
      if (known.waiting.length < this.opts.maxProblems) known.waiting.push(path);
    } else if (known.refused !== null) {
      this.opts.report([{ path, message: known.refused }]);
    }
  }

  /** The guard's verdict on one host (the same for every URL naming it), then its waiting fields. */
  private async resolve(host: string, ref: string): Promise<void> {
    const refused = await this.limit(async () => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<string>((resolve) => {
        timer = setTimeout(
          () => resolve(`host ${host} did not resolve in time`),
          this.opts.lookupTimeoutMs ?? LOOKUP_TIMEOUT_MS,
        );
      });
      const verdict = assertPublicUrl(ref, {
        allowPrivate: this.opts.allowPrivate,
        lookup: this.opts.lookup,
      }).then(
        () => null,
        (err: unknown) => (err as Error).message,
      );
      try {
        return await Promise.race([verdict, late]);
      } finally {
        clearTimeout(timer);
      }
    });
    const entry = this.hosts.get(host);
    this.hosts.set(host, { refused });
    if (refused !== null && entry !== undefined && 'waiting' in entry) {
      this.opts.report(entry.waiting.map((path) => ({ path, message: refused })));
    }
  }
}
