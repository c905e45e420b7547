import { InputError } from '../errors';
import type { SchedulerConfig } from './config';

/** numpy's `round`: halves go to the even neighbour, which decides e.g. trailing spacing at 16 steps. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

export function checkSteps(steps: number, max: number, why?: string): void {
  if (!Number.isInteger(steps) || steps < 1 || steps > max) {
    throw new InputError(`steps must be an integer from 1 to ${max} (got ${steps})${why ? `: ${why}` : ''}`);
  }
}

/**
 * Inference timesteps, noisiest first, by the config's `timestep_spacing` (table 2 of Lin et al.
 * 2023, as diffusers computes them):
 * - leading:  k · (N // steps) + steps_offset, k = steps-1 .. 0
 * - trailing: round(N - k · N/steps) - 1, k = 0 .. steps-1
 * - linspace: k · (N-1)/(steps-1), k = steps-1 .. 0, left fractional; samplers round or keep it.
 * The arithmetic mirrors numpy's `arange`/`linspace` so rounding ties fall the same way.
 */
export function spacedTimesteps(config: SchedulerConfig, steps: number): number[] {
  const n = config.numTrainTimesteps;
  checkSteps(steps, n);
  const ks = Array.from({ length: steps }, (_, k) => k);
  switch (config.timestepSpacing) {
    case 'leading': {
      const ratio = Math.floor(n / steps);
      const top = (steps - 1) * ratio + config.stepsOffset;
      if (top > n - 1) {
        throw new InputError(`${steps} steps with steps_offset ${config.stepsOffset} would start at timestep ${top}, past the last training timestep ${n - 1}; use fewer steps`);
      }
      return ks.map((k) => (steps - 1 - k) * ratio + config.stepsOffset);
    }
    case 'trailing': {
      // numpy's arange steps by the difference its first two values actually have.
      const delta = n - n / steps - n;
      return ks.map((k) => roundHalfEven(n + k * delta) - 1);
    }
    case 'linspace': {
      if (steps === 1) return [0];
      const step = (n - 1) / (steps - 1);
      return ks.map((k) => (k === 0 ? n - 1 : (steps - 1 - k) * step));
    }
  }
}
