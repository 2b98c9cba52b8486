import { describe, expect, it } from 'vitest';
import { defaultModelConfig, parseModelConfig } from '../../model/config.js';

describe('model config', () => {
  it('defaults are valid and match the documented sizes', () => {
    const c = parseModelConfig({});
    expect(c).toEqual(defaultModelConfig);
    expect([c.frames, c.height, c.width, c.caption.length]).toEqual([16, 64, 64, 14]);
  });

  it('merges nested groups over the defaults', () => {
    const c = parseModelConfig({ encoder: { bidirectional: true }, spatial: { features: 0 } });
    expect(c.encoder).toEqual({ kind: 'lstm', units: defaultModelConfig.encoder.units, bidirectional: true });
    expect(c.spatial.features).toBe(0);
    expect(c.spatial.filters).toEqual(defaultModelConfig.spatial.filters);
  });

  it('rejects bad sizes with a message naming the field', () => {
    expect(() => parseModelConfig({ spatiotemporal: { temporalKernel: 2 } })).toThrow(/temporalKernel must be odd/);
    expect(() => parseModelConfig({ frames: 0 })).toThrow(/frames/);
    expect(() => parseModelConfig({ spatial: { features: 0 }, spatiotemporal: { features: 0 } })).toThrow(/at least one of/);
    expect(() => parseModelConfig({ height: 8, width: 8 })).toThrow(/downsampling blocks need frames of at least 16×16/);
    expect(() => parseModelConfig({ dropout: 1.5 })).toThrow(/dropout/);
    expect(() => parseModelConfig({ colour: true } as never)).toThrow(/colour/);
  });
});
