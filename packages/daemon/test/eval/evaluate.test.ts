import type { ModelInfo } from '@styleset/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine, EngineEvents, EngineJob } from '../../src/engine/engine';
import { evaluate, isOldShape } from '../../src/eval/evaluate';
import { loadGlyphLibrary, type GlyphLibrary } from '../../src/eval/glyph-library';
import { iconPrompt } from '../../src/eval/plan';
import { RESULTS_END, RESULTS_START, replaceResults, resultsSection } from '../../src/eval/report';
import { drawReferenceIcon, randomReferenceStyle } from '../../src/eval/reference-icon';
import { createRng } from '../../src/rng';
import { decodeImage } from '../../src/image/decode';
import { encodePng } from '../../src/image/png';

const MODEL: ModelInfo = {
  id: 'fake',
  name: 'fake',
  kind: 'default',
  width: 128,
  height: 128,
  defaults: { scheduler: 'ddim', steps: 20, guidance: 5 },
  loaded: true,
};

let library: GlyphLibrary;
beforeAll(async () => {
  library = await loadGlyphLibrary();
});

/**
 * Stands in for the diffusion model with the held-out glyphs: each prompt's name drawn in a random
 * style per image (plain) or one style per set (sharing), so the evaluation's plumbing and
 * aggregation can be checked against known answers without a model.
 */
class DrawingEngine implements Engine {
  readonly defaultModelId = MODEL.id;
  readonly jobs: EngineJob[] = [];

  async listModels(): Promise<ModelInfo[]> {
    return [MODEL];
  }

  async run(job: EngineJob, events: EngineEvents): Promise<{ timings: object }> {
    this.jobs.push(job);
    const { seed } = job.options;
    const shared = job.kind === 'reference' || job.options.shareAttention;
    const setStyle = randomReferenceStyle(createRng(seed ^ 0x5eed));
    for (const [index, prompt] of job.prompts.entries()) {
      const name = library.names.find((n) => iconPrompt(n) === prompt)!;
      const glyph = library.glyphs.find((g) => g.set === 'lucide' && g.name === name)!;
      const style = shared ? setStyle : randomReferenceStyle(createRng(seed + index));
      const png = encodePng(drawReferenceIcon(glyph.coverage, library.size, style, 128));
      await events.onResult({ index, prompt, seed: seed + index, width: 128, height: 128, png, latents: { data: new Float32Array(0), dims: [1, 0, 0, 0] } });
    }
    return { timings: {} };
  }

  async close(): Promise<void> {}
}

describe('evaluate', () => {
  it('runs every set in every condition with the same prompts and seeds', async () => {
    const engine = new DrawingEngine();
    const report = await evaluate(engine, MODEL, library, { sets: 3, setSize: 4, seed: 42, steps: 12, examples: 2, perName: 0 });
    expect(engine.jobs).toHaveLength(9);
    for (let set = 0; set < 3; set++) {
      const [plain, shared, reference] = engine.jobs.slice(3 * set, 3 * set + 3);
      expect([plain.kind, shared.kind, reference.kind]).toEqual(['set', 'set', 'reference']);
      expect([plain.options.shareAttention, shared.options.shareAttention, reference.options.shareAttention]).toEqual([false, true, true]);
      expect(new Set([plain, shared, reference].map((j) => j.options.seed))).toEqual(new Set([report.sets[set].seed]));
      expect(shared.prompts).toEqual(plain.prompts);
      expect(reference.prompts).toEqual(plain.prompts);
      expect([plain, shared, reference].every((j) => j.options.steps === 12)).toBe(true);
      expect(reference.referencePrompt).toBe(report.sets[set].reference.caption);
      expect(decodeImage(reference.referenceImage!, 'reference').width).toBe(128);
    }
    expect(report.examples).toHaveLength(2);
    expect(report.examples[0].images.styleAligned).toHaveLength(4);
    expect(report.perName).toEqual([]);
  });

  it('finds the names right, the shared sets consistent and no leakage', async () => {
    const report = await evaluate(new DrawingEngine(), MODEL, library, { sets: 6, setSize: 4, seed: 7, examples: 0, perName: 0 });
    const { summary, paired, spreadRatio } = report;
    for (const c of ['plain', 'styleAligned', 'reference'] as const) {
      expect(summary[c].content.all.top1).toBeGreaterThan(0.8);
      expect(summary[c].content.all.images).toBe(24);
      expect(summary[c].leakage.mean).toBe(0);
    }
    // One style per set against a random style per image.
    expect(spreadRatio.styleAligned).toBeLessThan(0.4);
    expect(paired.spread.wins).toBe(6);
    expect(summary.styleAligned.consistency.containerAgreement.mean).toBe(1);
    expect(summary.plain.consistency.containerAgreement.mean).toBeLessThan(0.8);
    expect(report.calibration.tabler!.images).toBeGreaterThan(100);
    expect(JSON.parse(JSON.stringify({ ...report, examples: [] })).summary.plain.consistency.spread.n).toBe(6);
  });

  it('scores every name of the vocabulary in the per-name sweep', async () => {
    const engine = new DrawingEngine();
    const report = await evaluate(engine, MODEL, library, { sets: 1, setSize: 2, seed: 3, examples: 0, perName: 1 });
    expect(report.perName.map((r) => r.name)).toEqual(library.names);
    expect(report.perName.every((r) => r.generated.images === 1 && r.calibration.images >= 2)).toBe(true);
    // The held-out glyphs drawn as icons are found, nearly always first.
    expect(report.perName.filter((r) => r.generated.top1 === 1).length / library.names.length).toBeGreaterThan(0.85);
    // Sweep jobs hold at most 8 prompts, plain.
    const sweep = engine.jobs.slice(3);
    expect(sweep.every((j) => j.prompts.length <= 8 && j.options.shareAttention === false)).toBe(true);
    expect(sweep.reduce((n, j) => n + j.prompts.length, 0)).toBe(library.names.length);
  });

  it('tells names of the old 16 shapes from new ones', () => {
    expect(isOldShape(library, 'home')).toBe(true); // "house"
    expect(isOldShape(library, 'settings')).toBe(true); // "gear"
    expect(isOldShape(library, 'search')).toBe(false);
    expect(isOldShape(library, 'camera')).toBe(false);
  });

  it('rejects options the reference-image jobs cannot run with, before generating', async () => {
    const engine = new DrawingEngine();
    // The reference starts from trajectory entry 5, so it needs more steps than that.
    await expect(evaluate(engine, MODEL, library, { sets: 1, setSize: 4, seed: 1, steps: 5, examples: 0, perName: 0 })).rejects.toThrow(/--steps/);
    expect(engine.jobs).toHaveLength(0);
  });
});

describe('results page', () => {
  it('renders the tables and replaces only its own section', async () => {
    const report = await evaluate(new DrawingEngine(), MODEL, library, { sets: 2, setSize: 3, seed: 3, examples: 1, perName: 0 });
    const section = resultsSection(report, { command: 'npx styleset eval --sets 2', contactSheet: 'images/contact-sheet.png', totalMs: 1234 });
    expect(section.startsWith(RESULTS_START)).toBe(true);
    expect(section.endsWith(RESULTS_END)).toBe(true);
    expect(section).toMatch(/\| StyleAligned \| \d+% \| \d+% \| [01]\.\d\d \| \d+% \| \d+% \| 6 \|/);
    expect(section).toMatch(/\| training glyphs: @tabler\/icons \(ceiling\) \| \d+% \|/);
    expect(section).toContain(`StyleAligned / plain on the same prompts and seeds: **${report.spreadRatio.styleAligned.toFixed(2)}x**`);
    expect(section).toContain('![Example sets](images/contact-sheet.png)');

    expect(replaceResults(undefined, section)).toBe(`# Evaluation\n\n${section}\n`);
    const page = `# Evaluation\n\nMethod.\n\n${RESULTS_START}\nold\n${RESULTS_END}\n\nAfterword.\n`;
    expect(replaceResults(page, section)).toBe(`# Evaluation\n\nMethod.\n\n${section}\n\nAfterword.\n`);
    expect(replaceResults('# Evaluation\n\nMethod.\n', section)).toBe(`# Evaluation\n\nMethod.\n\n${section}\n`);
  });
});
