import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseJsonText, readSsv2Dataset } from '../../data/ssv2.js';

const MINI = path.resolve(__dirname, '../fixtures/ssv2-mini');

describe('readSsv2Dataset on a hand-written folder in the real SSv2 format', () => {
  it('reads labels/ and 20bn-something-something-v2/ like the official download', async () => {
    const ds = await readSsv2Dataset(MINI);
    expect(ds.actions).toEqual(['Pushing something from left to right', 'Pushing something from right to left', 'Putting something into something', 'Showing something to the camera', 'Something falling like a rock', 'Stacking number of something']);
    expect(ds.groups).toEqual(['Falling', 'Holding or showing something', 'Pushing something', 'Putting something somewhere', 'Stacking']);
    expect(ds.records.train.map((r) => r.id)).toEqual(['101', '102', '103', '104', '107', '108']);
    expect(ds.records.validation.map((r) => r.id)).toEqual(['105']);
    expect(ds.videoPath('101')).toBe(path.join(MINI, '20bn-something-something-v2', '101.webm'));
  });

  it('derives the four granularities when there is no captions side file', async () => {
    const ds = await readSsv2Dataset(MINI);
    const r = ds.records.train.find((x) => x.id === '103')!;
    expect(ds.groups[r.group]).toBe('Putting something somewhere');
    expect(ds.actions[r.action]).toBe('Putting something into something');
    expect(r.simplified).toBe('Putting pen into mug');
    expect(r.caption).toBe('Putting a pen into a mug');
  });

  it('handles real SSv2 templates that start with [Something] or have a [number of] placeholder', async () => {
    const ds = await readSsv2Dataset(MINI);
    const rock = ds.records.train.find((x) => x.id === '107')!, stack = ds.records.train.find((x) => x.id === '108')!;
    expect(ds.actions[rock.action]).toBe('Something falling like a rock');
    expect(rock.simplified).toBe('Stone falling like a rock');
    expect(rock.caption).toBe('A stone falling like a rock');
    expect(ds.actions[stack.action]).toBe('Stacking number of something');
    expect(stack.simplified).toBe('Stacking 3 coins');
  });

  it('maps left/right classes to their mirror and keeps side-free classes as they are', async () => {
    const ds = await readSsv2Dataset(MINI);
    expect(ds.mirrorAction).toEqual([1, 0, 2, 3, 4, 5]);
  });

  it('keeps the test list unlabelled, as SSv2 ships it', async () => {
    const ds = await readSsv2Dataset(MINI);
    expect(ds.records.test).toHaveLength(1);
    expect(ds.records.test[0]).toMatchObject({ id: '106', action: -1, group: -1, template: '' });
  });
});

describe('bad label files fail with a clear error', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });
  const copy = async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ct-ssv2-'));
    await cp(MINI, dir, { recursive: true });
    return dir;
  };

  it('names the file, line and column of a JSON syntax error', async () => {
    const d = await copy();
    const file = path.join(d, 'labels', 'something-something-v2-train.json');
    await writeFile(file, '[\n{"id":"101","label":"x","template":"Pushing [something] from left to right","placeholders":["x"]},\n{"id":"102" "label":"y"}\n]');
    await expect(readSsv2Dataset(d)).rejects.toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not valid JSON at line 3, column 13`));
  });

  it('names the entry of a template that is not in the labels file', async () => {
    const d = await copy();
    await writeFile(path.join(d, 'labels', 'something-something-v2-validation.json'), '[{"id":"105","label":"juggling balls","template":"Juggling [something]","placeholders":["balls"]}]');
    await expect(readSsv2Dataset(d)).rejects.toThrow(/something-something-v2-validation\.json: entry #0 \(id 105\): template "Juggling \[something\]" is not a class/);
  });

  it('names the entry and field of a wrongly shaped entry', async () => {
    const d = await copy();
    await writeFile(path.join(d, 'labels', 'something-something-v2-validation.json'), '[{"id":"105","label":"x","template":"Putting [something] into [something]"}]');
    await expect(readSsv2Dataset(d)).rejects.toThrow(/validation\.json: entry #0 \(id "105"\): placeholders/);
  });

  it('rejects a labels file with a repeated index and a missing groups file', async () => {
    const d = await copy();
    await writeFile(path.join(d, 'labels', 'something-something-v2-labels.json'), '{"A something": "0", "B something": "0"}');
    await expect(readSsv2Dataset(d)).rejects.toThrow(/labels\.json: class index 0 is used by both "A something" and "B something"/);
    await cp(path.join(MINI, 'labels', 'something-something-v2-labels.json'), path.join(d, 'labels', 'something-something-v2-labels.json'));
    await rm(path.join(d, 'labels', 'template-groups.json'));
    await expect(readSsv2Dataset(d)).rejects.toThrow(/template-groups\.json: missing/);
  });

  it('reports the end of a truncated JSON file', () => {
    expect(() => parseJsonText('[{"id": "1"', 'x.json')).toThrow(/x\.json: not valid JSON at line 1/);
  });
});
