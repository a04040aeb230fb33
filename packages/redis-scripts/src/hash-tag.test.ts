import { describe, expect, it } from 'vitest';
import { assertOneHashTag, hashedPart } from './hash-tag.js';

describe('hashedPart (Redis Cluster key hash tags)', () => {
  it('hashes the text of the first non-empty {…}, else the whole name', () => {
    expect(hashedPart('pm:{store}:batch:1')).toBe('store');
    expect(hashedPart('pm:{a}:{b}')).toBe('a');
    expect(hashedPart('pm:batch:1')).toBe('pm:batch:1');
    expect(hashedPart('pm:{}:batch:{x}')).toBe('pm:{}:batch:{x}');
    expect(hashedPart('pm:{open')).toBe('pm:{open');
    expect(hashedPart('pm:}{x}')).toBe('x');
  });
});

describe('assertOneHashTag', () => {
  it('accepts keys of one tag, one key, or none', () => {
    expect(() => assertOneHashTag('s', ['p:{q}:wait', 'p:{q}:fq:q'])).not.toThrow();
    expect(() => assertOneHashTag('s', ['p:untagged'])).not.toThrow();
    expect(() => assertOneHashTag('s', [])).not.toThrow();
  });

  it('names the script and both keys when the keys hash on different parts', () => {
    expect(() => assertOneHashTag('endItem', ['p:{store}:item:1', 'p:outbox'])).toThrow(
      /endItem: keys hash on different parts \("store" and "p:outbox"\): p:\{store\}:item:1, p:outbox/,
    );
  });
});
