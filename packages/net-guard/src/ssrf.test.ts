import { describe, expect, it } from 'vitest';
import { assertPublicUrl, type LookupAll, UnsafeUrlError } from './ssrf.js';

const refuse = async (url: string, lookup?: LookupAll): Promise<UnsafeUrlError> => {
  const err = await assertPublicUrl(url, { allowPrivate: false, ...(lookup ? { lookup } : {}) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UnsafeUrlError);
  return err as UnsafeUrlError;
};

const fixed =
  (...addresses: string[]): LookupAll =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('assertPublicUrl', () => {
  it.each([
    ['http://127.0.0.1:8080/hook', 'loopback'],
    ['http://10.0.0.1/hook', 'private'],
    ['http://172.16.5.4/hook', 'private'],
    ['http://192.168.1.1/hook', 'private'],
    ['http://169.254.169.254/latest/meta-data/', 'linkLocal'],
    ['http://100.64.0.1/', 'carrierGradeNat'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://224.0.0.1/', 'multicast'],
    ['http://2130706433/', 'loopback'],
    ['http://[::1]/', 'loopback'],
    ['http://[::]/', 'unspecified'],
    ['http://[fe80::1]/', 'linkLocal'],
    ['http://[fc00::1]/', 'uniqueLocal'],
    ['http://[fd12:3456::1]/', 'uniqueLocal'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[::ffff:169.254.169.254]/', 'linkLocal'],
    ['http://[ff02::1]/', 'multicast'],
    // IPv4-compatible (::a.b.c.d, ::/96): reaches the IPv4 it carries, so it is judged as that IPv4.
    ['http://[::127.0.0.1]/', 'loopback'],
    ['http://[::7f00:1]/', 'loopback'],
    ['http://[::a9fe:a9fe]/', 'linkLocal'],
    ['http://[::10.0.0.1]/', 'private'],
    ['http://[::0:0:c0a8:101]/', 'private'],
    ['http://[::ffff:a00:1]/', 'private'],
    // Translation and tunnel prefixes can wrap any IPv4: never public.
    ['http://[64:ff9b::7f00:1]/', 'rfc6052'],
    ['http://[64:ff9b::808:808]/', 'rfc6052'],
    ['http://[::ffff:0:7f00:1]/', 'rfc6145'],
    ['http://[2002:7f00:1::1]/', '6to4'],
    ['http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 'teredo'],
  ])('refuses %s (%s) unless private addresses are allowed', async (url, range) => {
    const err = await refuse(url);
    expect(err.reason).toBe('blocked_address');
    expect(err.message).toContain(`(${range})`);
    await expect(assertPublicUrl(url, { allowPrivate: true })).resolves.toMatchObject({ url: new URL(url) });
  });

  it('refuses a name that resolves to loopback (localhost), through the real resolver', async () => {
    const err = await refuse('http://localhost:9/hook');
    expect(err.message).toMatch(/localhost resolves to (127\.0\.0\.1|::1) \(loopback\)/);
    const ok = await assertPublicUrl('http://localhost:9/hook', { allowPrivate: true });
    expect(['127.0.0.1', '::1']).toContain(ok.address);
  });

  it('refuses a name when any of its addresses is private', async () => {
    const err = await refuse('https://hooks.example.com/x', fixed('93.184.216.34', '10.1.2.3'));
    expect(err.message).toContain('10.1.2.3 (private)');
  });

  it.each([
    ['::7f00:1', 'loopback'],
    ['::a9fe:a9fe', 'linkLocal'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['64:ff9b::a9fe:a9fe', 'rfc6052'],
    ['2002:a00:1::1', '6to4'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
  ])('refuses a name whose DNS answer is %s (%s)', async (address, range) => {
    const err = await refuse('https://cdn.example.com/a.png', fixed('93.184.216.34', address));
    expect(err.reason).toBe('blocked_address');
    expect(err.message).toContain(`${address} (${range})`);
  });

  it('accepts IPv4-compatible and IPv4-mapped forms of a public IPv4', async () => {
    for (const url of ['http://[::8.8.8.8]/', 'http://[::ffff:8.8.8.8]/']) {
      await expect(assertPublicUrl(url, { allowPrivate: false })).resolves.toMatchObject({ family: 6 });
    }
  });

  it('returns every checked address of a public name', async () => {
    const checked = await assertPublicUrl('https://hooks.example.com/x', {
      allowPrivate: false,
      lookup: fixed('93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'),
    });
    expect(checked).toMatchObject({ address: '93.184.216.34', family: 4 });
    expect(checked.addresses).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
    ]);
  });

  it('accepts a public IP literal without asking DNS', async () => {
    const lookup: LookupAll = async () => {
      throw new Error('must not be called');
    };
    await expect(
      assertPublicUrl('http://93.184.216.34/hook', { allowPrivate: false, lookup }),
    ).resolves.toMatchObject({
      address: '93.184.216.34',
      family: 4,
    });
  });

  it.each(['ftp://example.com/x', 'file:///etc/passwd', 'gopher://127.0.0.1/', 'javascript:alert(1)'])(
    'refuses the scheme of %s even when private addresses are allowed',
    async (url) => {
      await expect(assertPublicUrl(url, { allowPrivate: true })).rejects.toMatchObject({
        reason: 'unsupported_scheme',
      });
    },
  );

  it('refuses invalid URLs and names that do not resolve', async () => {
    expect((await refuse('not a url')).reason).toBe('invalid_url');
    const nxdomain: LookupAll = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    const err = await refuse('https://nope.invalid/', nxdomain);
    expect(err).toMatchObject({ reason: 'dns_failure', message: expect.stringContaining('ENOTFOUND') });
  });
});
