// Atomic file output: every result file is written beside its final name and renamed into
// place, so an interrupted or failed run never leaves a half-written CSV behind.

/** Writes `text` to `path` atomically (temporary file in the same folder, then rename). */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  await writeBytesAtomic(path, new TextEncoder().encode(text));
}

/** Writes bytes to `path` atomically. */
export async function writeBytesAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  try {
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
