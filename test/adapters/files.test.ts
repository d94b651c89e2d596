import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFileStore } from '../../src/adapters/files.js';
import { tempDir, writeTree } from '../helpers/temp-dir.js';

describe('FileStore.readTextIfExists', () => {
  it('reads a file that is there', async () => {
    const dir = tempDir();
    writeTree(dir, { 'a.env': 'A=1\n' });
    expect(await nodeFileStore.readTextIfExists(join(dir, 'a.env'))).toBe('A=1\n');
  });

  it('is undefined when nothing is there, also below a file', async () => {
    const dir = tempDir();
    writeTree(dir, { 'file.txt': 'x' });
    expect(await nodeFileStore.readTextIfExists(join(dir, 'missing.env'))).toBeUndefined();
    expect(await nodeFileStore.readTextIfExists(join(dir, 'file.txt', 'below'))).toBeUndefined();
  });

  it('throws when something is there but cannot be read as a file', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'folder.env'));
    await expect(nodeFileStore.readTextIfExists(join(dir, 'folder.env'))).rejects.toMatchObject({ code: 'EISDIR' });
  });
});
