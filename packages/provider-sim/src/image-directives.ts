/**
 * Prompt directives that make the simulator return a bad image on purpose, for QA tests and the demo
 * (README "Image directives"), on all three wire formats:
 * - `[blank]`: one flat colour (a blank frame);
 * - `[duplicate:<group>]`: the picture of the group, whatever the rest of the prompt says, so
 *   prompts of one group return near-identical images (only the variant marker differs).
 */
export interface ImageLook {
  /** Text the picture's colours and pattern derive from. */
  seed: string;
  blank: boolean;
}

export function imageLook(prompt: string): ImageLook {
  const group = /\[duplicate:([^\]\s]{1,64})\]/i.exec(prompt)?.[1];
  return {
    seed: group === undefined ? prompt : `duplicate:${group}`,
    blank: /\[blank\]/i.test(prompt),
  };
}
