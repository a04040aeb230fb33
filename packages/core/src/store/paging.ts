import type { Redis } from 'ioredis';

/** Opaque cursors: clients must not build them, so their encoding can change. */
export const encodeCursor = (v: string): string => Buffer.from(v).toString('base64url');
export const decodeCursor = (c: string | undefined): string | undefined =>
  c ? Buffer.from(c, 'base64url').toString('utf8') : undefined;

/**
 * One page of a sorted set whose members (equal scores) sort by creation time when read
 * lexicographically, such as ids that start with their creation time: newest or oldest first, after
 * `after`, the last member of the previous page. A BYLEX range on members is stable while members
 * are added. Returns the page and the next page's cursor (null after the last page).
 */
export async function lexPage(
  redis: Redis,
  key: string,
  after: string | undefined,
  limit: number,
  order: 'newest' | 'oldest',
): Promise<{ members: string[]; nextCursor: string | null }> {
  const members =
    order === 'newest'
      ? await redis.zrange(
          key,
          after === undefined ? '+' : `(${after}`,
          '-',
          'BYLEX',
          'REV',
          'LIMIT',
          0,
          limit + 1,
        )
      : await redis.zrange(key, after === undefined ? '-' : `(${after}`, '+', 'BYLEX', 'LIMIT', 0, limit + 1);
  const page = members.slice(0, limit);
  return {
    members: page,
    nextCursor: members.length > limit ? encodeCursor(page[page.length - 1] as string) : null,
  };
}
