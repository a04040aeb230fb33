/**
 * @module SSRF guard for customer-supplied webhook URLs: only http(s) to public unicast addresses,
 * checked on every address the name resolves to. The checked addresses are returned so the caller
 * connects to exactly those (a second DNS answer could otherwise point somewhere else: rebinding).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves every address of a host name, like `dns.lookup(name, { all: true })`; injectable for tests. */
export type LookupAll = (hostname: string) => Promise<{ address: string; family: number }[]>;

export interface CheckedUrl extends ResolvedAddress {
  url: URL;
  /** Every resolved address, all checked; `address` is the first. */
  addresses: ResolvedAddress[];
}

export interface AssertPublicUrlOptions {
  /** Skips the address check (not the scheme check): demo and tests (PIXELMILL_WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  lookup?: LookupAll;
}

export type UnsafeUrlReason = 'invalid_url' | 'unsupported_scheme' | 'dns_failure' | 'blocked_address';

export class UnsafeUrlError extends Error {
  override readonly name = 'UnsafeUrlError';
  constructor(
    readonly reason: UnsafeUrlReason,
    message: string,
  ) {
    super(message);
  }
}

const defaultLookup: LookupAll = (hostname) => dnsLookup(hostname, { all: true });

/**
 * An allowlist, not a blocklist: ipaddr.js names every special range (loopback, private,
 * linkLocal incl. 169.254.169.254, uniqueLocal fc00::/7, carrierGradeNat, multicast, unspecified,
 * reserved, 6to4/teredo/NAT64 that can wrap a private IPv4…) and only `unicast` is public.
 */
export function addressRange(address: string): string {
  // process() unwraps ::ffff:10.0.0.1 to the IPv4 it really reaches.
  return ipaddr.process(address).range();
}

export async function assertPublicUrl(
  raw: string,
  { allowPrivate, lookup = defaultLookup }: AssertPublicUrlOptions,
): Promise<CheckedUrl> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnsafeUrlError('invalid_url', 'webhook URL is not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UnsafeUrlError('unsupported_scheme', `webhook URL scheme ${url.protocol} is not http or https`);
  }
  // WHATWG URL already normalised numeric forms (http://2130706433/ → 127.0.0.1); IPv6 keeps brackets.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');

  let resolved: { address: string; family: number }[];
  if (ipaddr.isValid(host)) {
    resolved = [{ address: host, family: ipaddr.parse(host).kind() === 'ipv4' ? 4 : 6 }];
  } else {
    try {
      resolved = await lookup(host);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'error';
      throw new UnsafeUrlError('dns_failure', `webhook host ${host} did not resolve (${code})`);
    }
    if (resolved.length === 0) throw new UnsafeUrlError('dns_failure', `webhook host ${host} has no address`);
  }

  if (!allowPrivate) {
    for (const { address } of resolved) {
      const range = addressRange(address);
      if (range !== 'unicast') {
        throw new UnsafeUrlError(
          'blocked_address',
          `webhook host ${host} resolves to ${address} (${range}); only public addresses are allowed`,
        );
      }
    }
  }
  const addresses = resolved.map(
    ({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }) as const,
  );
  const [first] = addresses;
  if (first === undefined) throw new UnsafeUrlError('dns_failure', `webhook host ${host} has no address`);
  return { url, address: first.address, family: first.family, addresses };
}
