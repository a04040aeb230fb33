/**
 * @module Redis Cluster's rule for which part of a key name picks its hash slot: the text between
 * the first `{` and the next `}` when that text is not empty (the key's hash tag), else the whole
 * name. Keys with the same hashed part always share a slot, on a cluster and on one node alike.
 */

/** The part of `key` Redis Cluster hashes to pick the key's slot. */
export function hashedPart(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

/**
 * Throws unless every key hashes on the same part: one script call or one transaction may only
 * touch keys of one slot on a cluster, and checking the names (not the slot numbers) proves it on
 * a single Redis too, where nothing else would notice.
 */
export function assertOneHashTag(what: string, keys: readonly string[]): void {
  const first = keys[0];
  if (first === undefined) return;
  const tag = hashedPart(first);
  for (const key of keys) {
    if (hashedPart(key) !== tag) {
      throw new Error(
        `${what}: keys hash on different parts ("${tag}" and "${hashedPart(key)}"): ${first}, ${key}`,
      );
    }
  }
}
