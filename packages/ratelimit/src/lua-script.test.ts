import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadLuaScript } from './lua-script.js';

const luaDir = new URL('./lua/', import.meta.url);
const scripts = readdirSync(luaDir).filter((f) => f.endsWith('.lua'));

describe('Lua scripts', () => {
  it.each(scripts)('%s is named <name>-<numKeys> and documents KEYS, ARGV and output', (file) => {
    const script = loadLuaScript(file);
    const header = readFileSync(new URL(file, luaDir), 'utf8').split(']]')[0] ?? '';
    expect(header.startsWith('--[[')).toBe(true);
    expect(header).toMatch(/KEYS/);
    expect(header).toMatch(/ARGV\[1\]/);
    expect(header).toMatch(/Output/);
    expect(script.source).not.toMatch(/@include/);
  });
});
