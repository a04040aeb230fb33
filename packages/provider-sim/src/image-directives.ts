/**
 * Prompt directives that make the simulator return a bad image on purpose, for QA tests and the demo
 * (README "Image directives"), on all three wire formats:
 * - `[blank]`: one flat colour (a blank frame);
 * - `[blank:<k>]`: a blank frame for the first k images of this exact prompt, normal pictures after
 *   (a flag that a regeneration clears);
 * - `[duplicate:<group>]`: the picture of the group, whatever the rest of the prompt says, so
 *   prompts of one group return near-identical images (only the variant marker differs);
 * - `[sim-pad:<kB>]`: the PNG padded by that many kB in a chunk decoders skip (png.ts padPng), for a
 *   realistic file size without a costly picture (results files of big images, memory tests).
 */
export interface ImageLook {
  /** Text the picture's colours and pattern derive from. */
  seed: string;
  blank: boolean;
  /** Bytes of padding to add to the PNG (0: none). */
  padBytes: number;
}

/**
 * `seen` is how many images this exact prompt was given before (the simulator counts them per
 * prompt for `[blank:<k>]`).
 */
export function imageLook(prompt: string, seen = 0): ImageLook {
  const group = /\[duplicate:([^\]\s]{1,64})\]/i.exec(prompt)?.[1];
  const firstBlanks = /\[blank:(\d{1,3})\]/i.exec(prompt)?.[1];
  const padKb = /\[sim-pad:(\d{1,5})\]/i.exec(prompt)?.[1];
  return {
    seed: group === undefined ? prompt : `duplicate:${group}`,
    blank: /\[blank\]/i.test(prompt) || (firstBlanks !== undefined && seen < Number(firstBlanks)),
    padBytes: padKb === undefined ? 0 : Number(padKb) * 1024,
  };
}
