/** What a spreadsheet takes as the start of a formula (OWASP "CSV Injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A text cell a spreadsheet shows as text: one starting with `=`, `+`, `-`, `@`, a tab or a carriage
 * return gets a leading `'` (OWASP's advice); every other cell is unchanged. For text a client
 * supplied or influenced, never for numbers we write ourselves.
 */
export function csvSafe(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}
