import { summarize } from '../measure/stats';
import type { BenchResults } from '../results';
import type { ScalingPoint } from '../scenarios/scaling';
import { chunkedPoints, defaultBatchingPoints, perTarget } from './derive';
import { linePlot, type Series } from './svg-plot';

/** Time per target image against set size, one panel per model: one batch, the default batching, chunks. */
export function scalingPlot(results: BenchResults): string {
  const series = (name: string, colour: string, points: ScalingPoint[], dash?: string): Series => ({
    name,
    colour,
    dash,
    points: points.map((p) => {
      const s = summarize(perTarget(p));
      return { x: p.targets, median: s.median, min: s.min, max: s.max };
    }),
  });
  const panels = results.models.map((m) => {
    const steps = m.plan.scaling.steps ?? m.sets.cold.shared[0].result.steps;
    return {
      title: `${m.model.id} (${steps} step${steps === 1 ? '' : 's'})`,
      series: [
        series('one batch', '#1f77b4', m.scaling['one-batch'].result),
        series('default batching', '#2ca02c', defaultBatchingPoints(m), '2 3'),
        series(`chunks of ${m.plan.chunk} (reference + ${m.plan.chunk - 1})`, '#d62728', chunkedPoints(m), '6 4'),
      ],
    };
  });
  return linePlot(panels, {
    title: 'StyleAligned: time per target image against set size (warm)',
    xLabel: 'targets per set',
    yLabel: 'ms per target image',
  });
}
