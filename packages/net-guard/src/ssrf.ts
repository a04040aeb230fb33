/**
 * @module SSRF guard for customer-supplied URLs (webhooks and reference images): only http(s) to
 * public unicast addresses, checked on every address the name resolves to. The checked addresses are
 * returned so the caller connects to exactly those (a second DNS answer could otherwise point
 * somewhere else: rebinding); guarded-fetch.ts does that.
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
 * The IPv4 address an IPv6 address carries in its last 32 bits when it is IPv4-mapped
 * (::ffff:a.b.c.d) or IPv4-compatible (::a.b.c.d, i.e. ::/96 without :: and ::1): both reach that
 * IPv4 on dual-stack hosts, so both are judged as it.
 */
function carriedIPv4(addr: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  if (addr.isIPv4MappedAddress()) return addr.toIPv4Address();
  const [a, b, c, d, e, f, g, h] = addr.parts;
  if (a !== 0 || b !== 0 || c !== 0 || d !== 0 || e !== 0 || f !== 0 || g === undefined || h === undefined) {
    return undefined;
  }
  if (g === 0 && h <= 1) return undefined; // :: (unspecified) and ::1 (loopback) are IPv6's own
  return new ipaddr.IPv4([g >> 8, g & 0xff, h >> 8, h & 0xff]);
}

/**
 * An allowlist, not a blocklist: ipaddr.js names every special range (loopback, private,
 * linkLocal incl. 169.254.169.254, uniqueLocal fc00::/7, carrierGradeNat, multicast, unspecified,
 * reserved, and rfc6052 NAT64 64:ff9b::/96, 6to4 2002::/16, teredo 2001::/32 that can wrap a private
 * IPv4) and only `unicast` is public. IPv6 that carries an IPv4 directly is judged as that IPv4.
 */
export function addressRange(address: string): string {
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.range();
  const v4 = carriedIPv4(parsed as ipaddr.IPv6);
  return (v4 ?? parsed).range();
}

export async function assertPublicUrl(
  raw: string,
  { allowPrivate, lookup = defaultLookup }: AssertPublicUrlOptions,
): Promise<CheckedUrl> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnsafeUrlError('invalid_url', 'URL is not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UnsafeUrlError('unsupported_scheme', `URL scheme ${url.protocol} is not http or https`);
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
      throw new UnsafeUrlError('dns_failure', `host ${host} did not resolve (${code})`);
    }
    if (resolved.length === 0) throw new UnsafeUrlError('dns_failure', `host ${host} has no address`);
  }

  if (!allowPrivate) {
    for (const { address } of resolved) {
      const range = addressRange(address);
      if (range !== 'unicast') {
        throw new UnsafeUrlError(
          'blocked_address',
          `host ${host} resolves to ${address} (${range}); only public addresses are allowed`,
        );
      }
    }
  }
  const addresses = resolved.map(
    ({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }) as const,
  );
  const [first] = addresses;
  if (first === undefined) throw new UnsafeUrlError('dns_failure', `host ${host} has no address`);
  return { url, address: first.address, family: first.family, addresses };
}
