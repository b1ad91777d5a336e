// CSV text for result tables through csv-stringify (a maintained RFC 4180 writer), with one
// number format everywhere so equal results give byte-identical files.

import { stringify } from "csv-stringify/sync";

/**
 * Formats a cell: integers as written, other finite numbers with 6 decimals (learning rates
 * keep their shortest form), non-finite numbers (NaN: undefined, e.g. a CI of one seed) as "".
 */
export function formatCell(v: unknown, column: string): string {
  if (typeof v !== "number") return String(v ?? "");
  if (!Number.isFinite(v)) return "";
  if (Number.isInteger(v)) return String(v);
  if (column.endsWith("lr")) return String(v);
  const s = v.toFixed(6);
  return s === "-0.000000" ? "0.000000" : s;
}

/** CSV text with a header line, columns in the given order. */
export function toCsv<T extends object>(
  rows: readonly T[],
  columns: readonly (keyof T & string)[],
): string {
  const records = rows.map((r) => columns.map((c) => formatCell(r[c], c)));
  return stringify([columns as unknown as string[], ...records]);
}
