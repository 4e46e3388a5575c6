import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DatasetError, type ArrayDataset, type DatasetSplits } from '@tempered/core';

/** Splits held in memory as core `ArrayDataset`s (raw pixels reachable through `images`). */
export interface ArrayDatasetSplits extends DatasetSplits {
  readonly train: ArrayDataset;
  readonly test: ArrayDataset;
}

/** gzip streams start with 0x1f 0x8b (RFC 1952). */
function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Reads a dataset file, inflating it when it is gzip-compressed (detected by its magic bytes,
 * so a `.gz` suffix is not required). Missing or corrupt files throw a {@link DatasetError}
 * naming the file.
 */
export function readDatasetFile(path: string): Uint8Array {
  if (!existsSync(path)) throw new DatasetError(path, 'file not found');
  if (!statSync(path).isFile()) throw new DatasetError(path, 'expected a file, found a directory');
  const raw = readFileSync(path);
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  if (!isGzip(bytes)) return bytes;
  try {
    const inflated = gunzipSync(bytes);
    return new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DatasetError(path, `gzip data is corrupt or truncated (${reason})`);
  }
}

/** Throws a {@link DatasetError} naming `dir` unless it is an existing directory. */
export function requireDirectory(dir: string, hint: string): void {
  if (!existsSync(dir)) throw new DatasetError(dir, `directory not found; ${hint}`);
  if (!statSync(dir).isDirectory()) throw new DatasetError(dir, `expected a directory; ${hint}`);
}

/** The first of `names` that exists in `dir`; otherwise a DatasetError listing what was expected. */
export function findFile(dir: string, names: readonly string[]): string {
  for (const name of names) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new DatasetError(join(dir, names[0]!), `file not found; expected one of ${names.join(', ')} in ${dir}`);
}
