import { readdirSync, readFileSync } from 'node:fs';
import { luaScripts } from '@pixelmill/redis-scripts';
import { describe, expect, it } from 'vitest';

const luaDir = new URL('./lua/', import.meta.url);
const scripts = luaScripts(luaDir);
const files = readdirSync(luaDir).filter((f) => f.endsWith('.lua'));

describe('fair-queue Lua scripts', () => {
  it('are the two the scheduler runs', () => {
    expect(files.sort()).toEqual(['fairStart-8.lua', 'fairTag-2.lua']);
  });

  it.each(files)('%s is named <name>-<numKeys> and documents KEYS, ARGV and output', (file) => {
    const script = scripts.load(file);
    const header = readFileSync(new URL(file, luaDir), 'utf8').split(']]')[0] ?? '';
    expect(header.startsWith('--[[')).toBe(true);
    expect(header).toMatch(/KEYS/);
    expect(header).toMatch(/ARGV\[1\]/);
    expect(header).toMatch(/Output/);
    expect(script.source).not.toMatch(/@include/);
  });
});
