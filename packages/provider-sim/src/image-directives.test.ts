import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageLook } from './image-directives.js';
import { type RunningSim, startSim } from './server.js';
import { type Format, type Reply, send } from './test-support/helpers.js';

let sim: RunningSim;
beforeAll(async () => {
  sim = await startSim({ seed: 9 });
});
afterAll(() => sim.close());

/** The first image of a successful answer, decoded, in any of the three wire formats. */
function imageOf(format: Format, r: Reply): PNG {
  expect(r.status).toBe(200);
  let b64: string;
  if (format === 'gemini') {
    // biome-ignore lint/suspicious/noExplicitAny: response JSON
    b64 = r.json.candidates[0].content.parts.find((p: any) => p.inlineData).inlineData.data;
  } else if (format === 'openai') {
    b64 = r.json.data[0].b64_json;
  } else {
    const url: string = r.json.choices[0].message.images[0].image_url.url;
    b64 = url.slice(url.indexOf(',') + 1);
  }
  return PNG.sync.read(Buffer.from(b64, 'base64'));
}

/** Pixel bytes below the first row (which carries the per-generation marker). */
const body = (png: PNG) => png.data.subarray(png.width * 4);

describe('image directives over HTTP', () => {
  for (const format of ['gemini', 'openai', 'chat'] as const) {
    it(`${format}: [blank] returns one flat colour; [duplicate:<group>] the group's picture`, async () => {
      const blank = imageOf(
        format,
        await send(sim.url, format, 'k', 'sim-a', 'a red shoe [blank] [sim:48x32]'),
      );
      const first = blank.data.readUInt32BE(0);
      for (let i = 0; i < blank.data.length; i += 4) expect(blank.data.readUInt32BE(i)).toBe(first);

      const a = imageOf(
        format,
        await send(sim.url, format, 'k', 'sim-a', 'sku 1 [duplicate:g1] [sim:48x32]'),
      );
      const b = imageOf(
        format,
        await send(sim.url, format, 'k', 'sim-a', 'sku 2 [duplicate:g1] [sim:48x32]'),
      );
      const c = imageOf(format, await send(sim.url, format, 'k', 'sim-a', 'sku 3 [sim:48x32]'));
      expect(body(a).equals(body(b))).toBe(true);
      expect(a.data.equals(b.data)).toBe(false); // still two generations: the marker differs
      expect(body(a).equals(body(c))).toBe(false);
    });
  }

  it('reads the directives anywhere in the prompt, case-insensitively', () => {
    expect(imageLook('shoe')).toEqual({ seed: 'shoe', blank: false, padBytes: 0 });
    expect(imageLook('x [BLANK] y')).toEqual({ seed: 'x [BLANK] y', blank: true, padBytes: 0 });
    expect(imageLook('a [Duplicate:grp-2] b')).toEqual({
      seed: 'duplicate:grp-2',
      blank: false,
      padBytes: 0,
    });
    expect(imageLook('big [sim-pad:300]').padBytes).toBe(300 * 1024);
    // [blank:<k>]: blank for the first k images of the prompt only.
    expect(imageLook('lamp [blank:2]', 0).blank).toBe(true);
    expect(imageLook('lamp [blank:2]', 1).blank).toBe(true);
    expect(imageLook('lamp [blank:2]', 2).blank).toBe(false);
  });
});
