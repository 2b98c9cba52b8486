/**
 * The clip library on a real folder: many clips added at once (as two tabs would) are all kept,
 * in the SSv2 files too; a full library (its size limit) refuses a clip with a message, removes the
 * refused clip's file and keeps every other; relabel and delete; a reopened library reads the same;
 * an index that is not the library's is an error naming the file; labels are checked.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkLabel, ClipLabelError, ClipLibrary, LIBRARY_INDEX, LibraryFullError } from '../../server/clipLibrary.js';
import { readSsv2Dataset } from '../../data/index.js';
import { tempDir } from '../pipelines/tools.js';

/** A stand-in video of `bytes` bytes where the encoder would have put one. */
function fakeVideo(library: ClipLibrary, bytes = 1000): string {
  const file = library.tempFile();
  writeFileSync(file, Buffer.alloc(bytes, 7));
  return file;
}

const clip = (library: ClipLibrary, action: string, objects: string[] = [], bytes = 1000) => ({
  action, objects, tempFile: fakeVideo(library, bytes), streamId: 'webcam-1', streamName: 'My webcam', capturedAt: Date.now(), frames: 24, fps: 12,
});

describe('clip library', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir('library')));
  afterEach(() => tmp.remove());

  it('keeps every clip of many added at once, in its index and its SSv2 files', async () => {
    const library = await ClipLibrary.open(tmp.dir, { maxBytes: 1e9, maxClips: 100 });
    const added = await Promise.all(Array.from({ length: 20 }, (_, i) => library.add(clip(library, i % 2 ? 'Measuring flour' : 'Putting [something] into [something]', i % 2 ? [] : ['a spoon', 'a bowl']))));
    expect(new Set(added.map((c) => c.id)).size).toBe(20);
    expect(library.view().classes).toEqual([{ name: 'Measuring flour', clips: 10 }, { name: 'Putting something into something', clips: 10 }]);
    const ds = await readSsv2Dataset(tmp.dir);
    expect(ds.records.train).toHaveLength(20);
    expect(ds.actions).toEqual(['Measuring flour', 'Putting something into something']);
    expect(ds.records.train.find((r) => r.placeholders.length)!.caption).toBe('Putting a spoon into a bowl');
    // No temporary file is left behind.
    expect(readdirSync(tmp.dir).filter((f) => f.startsWith('.incoming') || f.endsWith('.tmp'))).toEqual([]);

    const reopened = await ClipLibrary.open(tmp.dir, { maxBytes: 1e9, maxClips: 100 });
    expect(reopened.view().clips.map((c) => c.id).sort()).toEqual(added.map((c) => c.id).sort());
  });

  it('refuses a clip beyond its size limit with a message, and loses nothing it had', async () => {
    const library = await ClipLibrary.open(tmp.dir, { maxBytes: 2500, maxClips: 100 });
    const kept = [await library.add(clip(library, 'Measuring flour')), await library.add(clip(library, 'Measuring flour'))];
    const refused = clip(library, 'Measuring flour');
    await expect(library.add(refused)).rejects.toThrow(LibraryFullError);
    await expect(library.add(clip(library, 'Measuring flour'))).rejects.toThrow(/does not fit: the library holds .* MB of .* MB; delete clips or raise libraryMaxMb/);
    expect(existsSync(refused.tempFile)).toBe(false);
    expect(library.view().clips.map((c) => c.id)).toEqual(kept.map((c) => c.id));
    for (const c of kept) expect(existsSync(library.videoPath(c.id))).toBe(true);
    // Once one is deleted there is room again.
    await library.delete(kept[0]!.id);
    expect(existsSync(path.join(tmp.dir, `${kept[0]!.id}.webm`))).toBe(false);
    await expect(library.add(clip(library, 'Measuring flour'))).resolves.toMatchObject({ className: 'Measuring flour' });
  });

  it('refuses beyond its clip count, and checks room before anything is recorded', async () => {
    const library = await ClipLibrary.open(tmp.dir, { maxBytes: 1e9, maxClips: 1 });
    await library.add(clip(library, 'Measuring flour'));
    expect(() => library.checkRoom()).toThrow(/full \(1 clips, the most it keeps\)/);
  });

  it('relabels a clip and a bad new label changes nothing', async () => {
    const library = await ClipLibrary.open(tmp.dir, { maxBytes: 1e9, maxClips: 10 });
    const c = await library.add(clip(library, 'Measuring flour'));
    await library.relabel(c.id, { action: 'Stirring [something] with [something]', objects: ['the soup', 'a ladle'] });
    expect(library.get(c.id).className).toBe('Stirring something with something');
    await expect(library.relabel(c.id, { action: 'rm -rf /', objects: [] })).rejects.toThrow(ClipLabelError);
    expect(library.get(c.id).className).toBe('Stirring something with something');
    await expect(library.relabel('clip-nosuch-000', { action: 'Measuring flour', objects: [] })).rejects.toThrow(/no clip "clip-nosuch-000"/);
  });

  it('an index that is not the library format is an error naming the file', async () => {
    writeFileSync(path.join(tmp.dir, LIBRARY_INDEX), '{"clips": 3}');
    await expect(ClipLibrary.open(tmp.dir, { maxBytes: 1e9, maxClips: 10 })).rejects.toThrow(new RegExp(`${LIBRARY_INDEX}: not a countertop clip library index`));
    expect(readFileSync(path.join(tmp.dir, LIBRARY_INDEX), 'utf8')).toBe('{"clips": 3}');
  });

  it('checks labels: letters of any script, slots with their words, no path or markup characters', () => {
    expect(checkLabel({ action: 'Mehl abwiegen', objects: [] })).toBe('Mehl abwiegen');
    expect(checkLabel({ action: ' Measuring\t flour ', objects: [] })).toBe('Measuring flour');
    expect(checkLabel({ action: 'Pouring [something] into [something]', objects: ['milk', 'a mug'] })).toBe('Pouring something into something');
    for (const bad of ['../../etc/passwd', 'Cut <b>', 'a"b', 'new\u0000line', '', '   ']) expect(() => checkLabel({ action: bad, objects: [] }), bad).toThrow(ClipLabelError);
    expect(() => checkLabel({ action: 'Pouring [something]', objects: [] })).toThrow(/1 object slot but 0 object words were given/);
    expect(() => checkLabel({ action: 'Pouring [something]', objects: ['a/b'] })).toThrow(/object "a\/b"/);
  });
});
