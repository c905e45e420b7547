/**
 * One scenario in a process of its own: peak resident memory is a high-water mark that never
 * drops within a process, so each scenario's peak is only its own when it ran alone.
 */
import { peakRssMiB } from './measure/peak-rss';
import { answerParent } from './run-child';
import { runCalls, type CallsResult, type CallsSpec } from './scenarios/calls';
import { runDaemon, type DaemonResult, type DaemonSpec } from './scenarios/daemon';
import { runFixtures, type FixturesResult, type FixturesSpec } from './scenarios/fixtures';
import { runInversion, type InversionResult, type InversionSpec } from './scenarios/inversion';
import { runOpProfile, type OpProfileResult, type OpProfileSpec } from './scenarios/op-profile';
import { runScaling, type ScalingPoint, type ScalingSpec } from './scenarios/scaling';
import { runServiceLoad, type ServiceLoadResult, type ServiceLoadSpec } from './scenarios/service-load';
import { runSets, type SetsResult, type SetsSpec } from './scenarios/sets';
import { runVector, type VectorResult, type VectorSpec } from './scenarios/vector';

/** Scenarios on one model; ServiceSpec's need none. */
export type ModelScenarioSpec = CallsSpec | SetsSpec | ScalingSpec | InversionSpec | DaemonSpec | OpProfileSpec | VectorSpec;
export type ServiceSpec = ServiceLoadSpec | FixturesSpec;
export type ScenarioSpec = ModelScenarioSpec | ServiceSpec;

/** What each scenario kind returns. */
export interface ScenarioResults {
  calls: CallsResult;
  sets: SetsResult;
  scaling: ScalingPoint[];
  inversion: InversionResult;
  daemon: DaemonResult;
  'op-profile': OpProfileResult;
  vector: VectorResult;
  'service-load': ServiceLoadResult;
  fixtures: FixturesResult;
}

export interface ChildReply<K extends ScenarioSpec['kind'] = ScenarioSpec['kind']> {
  result: ScenarioResults[K];
  peakRssMiB: number;
}

async function run(spec: ScenarioSpec): Promise<ScenarioResults[ScenarioSpec['kind']]> {
  switch (spec.kind) {
    case 'calls':
      return runCalls(spec);
    case 'sets':
      return runSets(spec);
    case 'scaling':
      return runScaling(spec);
    case 'inversion':
      return runInversion(spec);
    case 'daemon':
      return runDaemon(spec);
    case 'op-profile':
      return runOpProfile(spec);
    case 'vector':
      return runVector(spec);
    case 'service-load':
      return runServiceLoad(spec);
    case 'fixtures':
      return runFixtures(spec);
  }
}

answerParent<ScenarioSpec>(async (spec) => ({ result: await run(spec), peakRssMiB: peakRssMiB() }) satisfies ChildReply);
