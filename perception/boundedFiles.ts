/**
 * One folder of measurement files with a size limit: a new file is written atomically, then the
 * oldest files go until the folder fits. Shared by the hand–object and backbone measurement caches.
 */
import { mkdir, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function storeBounded(file: string, bytes: string | Buffer, limitBytes: number): Promise<void> {
  const dir = path.dirname(file);
  const ext = path.extname(file);
  await mkdir(dir, { recursive: true });
  await writeFile(`${file}.tmp`, bytes);
  await rename(`${file}.tmp`, file);
  const entries = await Promise.all((await readdir(dir)).filter((f) => f.endsWith(ext)).map(async (f) => ({ f, st: await stat(path.join(dir, f)) })));
  let total = entries.reduce((n, e) => n + e.st.size, 0);
  for (const e of entries.sort((a, b) => a.st.mtimeMs - b.st.mtimeMs)) {
    if (total <= limitBytes) break;
    await unlink(path.join(dir, e.f)).catch(() => undefined);
    total -= e.st.size;
  }
}
