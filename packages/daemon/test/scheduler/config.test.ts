import { describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors';
import { parseSchedulerConfig } from '../../src/scheduler/config';
import { SD_CONFIG } from './reference';

function errorOf(json: unknown, kind: 'ddim' | 'euler_ancestral' | 'lcm' = 'ddim'): ModelError {
  try {
    parseSchedulerConfig(json, kind, 'model/scheduler/scheduler_config.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ModelError);
    return e as ModelError;
  }
  throw new Error('expected a ModelError');
}

describe('parseSchedulerConfig', () => {
  it('reads the diffusers keys of a Stable Diffusion export', () => {
    const c = parseSchedulerConfig({ ...SD_CONFIG, prediction_type: 'v_prediction', timestep_spacing: 'trailing' }, 'ddim');
    expect(c).toMatchObject({
      numTrainTimesteps: 1000,
      betaSchedule: 'scaled_linear',
      betaStart: 0.00085,
      betaEnd: 0.012,
      stepsOffset: 1,
      setAlphaToOne: false,
      clipSample: false,
      predictionType: 'v_prediction',
      timestepSpacing: 'trailing',
      trainedBetas: null,
    });
  });

  it('fills missing keys with the defaults of the diffusers class for each sampler', () => {
    expect(parseSchedulerConfig({}, 'ddim')).toMatchObject({ betaSchedule: 'linear', betaStart: 0.0001, betaEnd: 0.02, clipSample: true, setAlphaToOne: true, timestepSpacing: 'leading', stepsOffset: 0 });
    expect(parseSchedulerConfig({}, 'euler_ancestral')).toMatchObject({ betaSchedule: 'linear', timestepSpacing: 'linspace' });
    expect(parseSchedulerConfig({}, 'lcm')).toMatchObject({ betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, clipSample: false, originalInferenceSteps: 50, timestepScaling: 10 });
  });

  it('rejects bad values naming the file and the key', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ beta_schedule: 'karras' }, '"beta_schedule" must be one of "linear", "scaled_linear", "squaredcos_cap_v2" (got "karras")'],
      [{ num_train_timesteps: 0 }, '"num_train_timesteps" must be an integer from 2'],
      [{ num_train_timesteps: 1000.5 }, '"num_train_timesteps" must be an integer'],
      [{ beta_start: -1 }, '"beta_start" must be a number in (0, 1)'],
      [{ beta_end: '0.012' }, '"beta_end" must be a number in (0, 1) (got "0.012")'],
      [{ steps_offset: -1 }, '"steps_offset" must be an integer from 0 to 999'],
      [{ set_alpha_to_one: 'no' }, '"set_alpha_to_one" must be true or false'],
      [{ prediction_type: 'flow' }, '"prediction_type" must be one of "epsilon", "v_prediction", "sample"'],
      [{ timestep_spacing: 'karras' }, '"timestep_spacing" must be one of "leading", "trailing", "linspace"'],
      [{ clip_sample_range: 0 }, '"clip_sample_range" must be a positive number'],
      [{ trained_betas: [0.1, 0.2] }, '"trained_betas" must be null or a list of 1000 numbers'],
      [{ beta_start: 0.02, beta_end: 0.01 }, '"beta_start" (0.02) must not exceed "beta_end" (0.01)'],
      [{ thresholding: true }, '"thresholding": true'],
    ];
    for (const [json, message] of cases) {
      const e = errorOf(json);
      expect(e.message).toContain('model/scheduler/scheduler_config.json: ');
      expect(e.message).toContain(message);
    }
    expect(errorOf([]).message).toContain('expected a JSON object');
    expect(errorOf({ prediction_type: 'sample' }, 'euler_ancestral').message).toContain('"prediction_type": "sample" is not supported by the Euler ancestral sampler');
  });

  it('ignores keys the samplers do not use and treats null as absent', () => {
    const c = parseSchedulerConfig({ use_karras_sigmas: true, interpolation_type: 'linear', prediction_type: null }, 'euler_ancestral');
    expect(c.predictionType).toBe('epsilon');
  });
});
