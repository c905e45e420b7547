import { isInside, relativePath } from './paths';
import type { InspectedReference } from './plan';

/** What a diagnostic says about one reference, and whether the quick fixes can fill it. */
export interface ReferenceProblem {
  code: 'missing-image' | 'placeholder-image' | 'cannot-generate';
  severity: 'warning' | 'information';
  message: string;
  /** The image file, absolute. */
  target: string;
  /** "Generate this image with Styleset" applies. */
  fixable: boolean;
}

/**
 * A missing image is a page that shows a broken picture: a warning. A placeholder still shows
 * something: information. Either way the message names the file as the workspace knows it and
 * says what Styleset can do, or why it cannot.
 */
export function referenceProblem({ reference, target, state }: InspectedReference, folder: string): ReferenceProblem | undefined {
  const name = isInside(folder, target) ? relativePath(folder, target) : reference.target;
  switch (state.state) {
    case 'present':
      return undefined;
    case 'missing':
      return { code: 'missing-image', severity: 'warning', message: `${name} does not exist. Styleset can generate it.`, target, fixable: true };
    case 'placeholder':
      return { code: 'placeholder-image', severity: 'information', message: `${name} is a placeholder (styleset.placeholderGlob). Styleset can replace it.`, target, fixable: true };
    case 'skipped':
      return {
        code: 'cannot-generate',
        severity: state.missing ? 'warning' : 'information',
        message: `${name} ${state.missing ? 'does not exist' : 'is a placeholder'}. ${state.why[0].toUpperCase()}${state.why.slice(1)}.`,
        target,
        fixable: false,
      };
  }
}
