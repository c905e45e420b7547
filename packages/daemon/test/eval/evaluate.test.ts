import type { ModelInfo } from '@styleset/protocol';
import { describe, expect, it } from 'vitest';
import type { Engine, EngineEvents, EngineJob } from '../../src/engine/engine';
import { evaluate } from '../../src/eval/evaluate';
import { shapePrompt } from '../../src/eval/plan';
import { RESULTS_END, RESULTS_START, replaceResults, resultsSection } from '../../src/eval/report';
import { SHAPES, createRng, randomIconSpec, randomIconStyle } from '../../src/icons/index';
import { decodeImage } from '../../src/image/decode';
import { encodePng } from '../../src/image/png';
import { image } from './support';

const MODEL: ModelInfo = {
  id: 'fake',
  name: 'fake',
  kind: 'default',
  width: 64,
  height: 64,
  defaults: { scheduler: 'ddim', steps: 20, guidance: 5 },
  loaded: true,
};

/**
 * Stands in for the diffusion model with the renderer: each prompt's shape, in a random style per
 * image (plain) or one style per set (sharing), so the evaluation's plumbing and aggregation can
 * be checked against known answers without a model.
 */
class RenderingEngine implements Engine {
  readonly defaultModelId = MODEL.id;
  readonly jobs: EngineJob[] = [];

  async listModels(): Promise<ModelInfo[]> {
    return [MODEL];
  }

  async run(job: EngineJob, events: EngineEvents): Promise<{ timings: object }> {
    this.jobs.push(job);
    const { seed } = job.options;
    const shared = job.kind === 'reference' || job.options.shareAttention;
    const setStyle = randomIconStyle(createRng(seed ^ 0x5eed));
    for (const [index, prompt] of job.prompts.entries()) {
      const shape = SHAPES.find((s) => shapePrompt(s) === prompt)!;
      const spec = randomIconSpec(createRng(seed + index), shape);
      const png = encodePng(image(shared ? { ...spec, style: setStyle } : spec));
      await events.onResult({ index, prompt, seed: seed + index, width: 64, height: 64, png, latents: { data: new Float32Array(0), dims: [1, 0, 0, 0] } });
    }
    return { timings: {} };
  }

  async close(): Promise<void> {}
}

describe('evaluate', () => {
  it('runs every set in every condition with the same prompts and seeds', async () => {
    const engine = new RenderingEngine();
    const report = await evaluate(engine, MODEL, { sets: 5, setSize: 4, seed: 42, steps: 12, examples: 2 });
    expect(engine.jobs).toHaveLength(15);
    for (let set = 0; set < 5; set++) {
      const [plain, shared, reference] = engine.jobs.slice(3 * set, 3 * set + 3);
      expect([plain.kind, shared.kind, reference.kind]).toEqual(['set', 'set', 'reference']);
      expect([plain.options.shareAttention, shared.options.shareAttention, reference.options.shareAttention]).toEqual([false, true, true]);
      expect(new Set([plain, shared, reference].map((j) => j.options.seed))).toEqual(new Set([report.sets[set].seed]));
      expect(shared.prompts).toEqual(plain.prompts);
      expect(reference.prompts).toEqual(plain.prompts);
      expect([plain, shared, reference].every((j) => j.options.steps === 12)).toBe(true);
      expect(reference.referencePrompt).toBe(report.sets[set].reference.caption);
      expect(decodeImage(reference.referenceImage!, 'reference').width).toBe(64);
    }
    expect(report.examples).toHaveLength(2);
    expect(report.examples[0].images.styleAligned).toHaveLength(4);
  });

  it('finds the shared sets consistent and the shapes right', async () => {
    const report = await evaluate(new RenderingEngine(), MODEL, { sets: 6, setSize: 4, seed: 7, examples: 0 });
    const { summary, paired } = report;
    expect(summary.styleAligned.accuracy.mean).toBeGreaterThan(0.9);
    expect(summary.plain.accuracy.mean).toBeGreaterThan(0.9);
    expect(summary.styleAligned.consistency.mean).toBeGreaterThan(summary.plain.consistency.mean + 0.3);
    expect(paired.consistency.wins).toBe(6);
    expect(summary.rendererSameStyle.consistency.mean).toBeGreaterThan(summary.rendererRandomStyles.consistency.mean + 0.3);
    // The fake's shared style equals the renderer's ceiling in kind, plain its chance level.
    expect(report.normalizedConsistency.styleAligned!).toBeGreaterThan(0.8);
    expect(Math.abs(report.normalizedConsistency.plain!)).toBeLessThan(0.3);
    expect(JSON.parse(JSON.stringify({ ...report, examples: [] })).summary.plain.iou.n).toBe(6);
  });

  it("rejects options the reference-image jobs cannot run with, before generating", async () => {
    const engine = new RenderingEngine();
    // The reference starts from trajectory entry 5, so it needs more steps than that.
    await expect(evaluate(engine, MODEL, { sets: 1, setSize: 4, seed: 1, steps: 5, examples: 0 })).rejects.toThrow(/--steps/);
    expect(engine.jobs).toHaveLength(0);
  });
});

describe('results page', () => {
  it('renders the table and replaces only its own section', async () => {
    const report = await evaluate(new RenderingEngine(), MODEL, { sets: 2, setSize: 3, seed: 3, examples: 1 });
    const section = resultsSection(report, { command: 'npx styleset eval --sets 2', contactSheet: 'images/contact-sheet.png', totalMs: 1234 });
    expect(section.startsWith(RESULTS_START)).toBe(true);
    expect(section.endsWith(RESULTS_END)).toBe(true);
    expect(section).toMatch(/\| StyleAligned \| 1\.00 ± 0\.00 \|/);
    expect(section).toContain('higher in 2/2 sets');
    expect(section).toContain('(weights: background 0.3, palette 0.3, fill 0.2, texture 0.2)');
    expect(section).toMatch(/\| renderer, one style per set \(ceiling\) \| 1\.00 ± 0\.00 \|/);
    expect(section).toContain('![Example sets](images/contact-sheet.png)');

    expect(replaceResults(undefined, section)).toBe(`# Evaluation\n\n${section}\n`);
    const page = `# Evaluation\n\nMethod.\n\n${RESULTS_START}\nold\n${RESULTS_END}\n\nAfterword.\n`;
    expect(replaceResults(page, section)).toBe(`# Evaluation\n\nMethod.\n\n${section}\n\nAfterword.\n`);
    expect(replaceResults('# Evaluation\n\nMethod.\n', section)).toBe(`# Evaluation\n\nMethod.\n\n${section}\n`);
  });
});
