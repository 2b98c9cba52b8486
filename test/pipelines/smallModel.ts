/** A real CountertopModel small enough for tests: untrained, default architecture at reduced sizes. */
import { CountertopModel, initBackend, parseModelConfig, Vocabulary } from '../../model/index.js';

export const labels = ['pouring water into a bowl', 'putting a cup onto a plate', 'wiping the counter', 'nothing'];

/**
 * The test network: the default architecture at sizes that run many windows a second on one core.
 * The server tests use it too, at their own frame rate.
 */
export const SMALL_TEST_NET = {
  frames: 8,
  height: 32,
  width: 32,
  fps: 12,
  spatial: { filters: [8, 16], features: 32 },
  spatiotemporal: { filters: [8, 8], temporalKernel: 3, features: 16 },
  encoder: { units: 32, bidirectional: false },
  caption: { length: 14, embedding: 16, units: 32 },
};

export async function smallModel(overrides: Parameters<typeof parseModelConfig>[0] = {}): Promise<CountertopModel> {
  await initBackend({ log: () => {} });
  const config = parseModelConfig({ ...SMALL_TEST_NET, ...(overrides as object) });
  const vocabulary = Vocabulary.build(labels, { minCount: 1 });
  return CountertopModel.create(config, [{ name: 'action', labels }, { name: 'group', labels: ['moving', 'cleaning'] }], vocabulary);
}
