/** One page of a list route: `data`, and `next_cursor` (null at the end). */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** Every element of a paged list, fetching the next page only when the previous one is used up. */
export async function* paginate<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    yield* page.data;
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
}

/** Collects an async iterable into an array (for lists known to be small). */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
