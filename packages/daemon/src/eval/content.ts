import type { GlyphLibrary, GlyphSet } from './glyph-library';
import { coverageMask, featureSimilarity, glyphFeature } from './glyph-features';
import type { Mask } from './mask';

/** How a glyph mask ranks the vocabulary's names by shape. */
export interface Retrieval {
  /** Names from the best-matching held-out glyph to the worst; empty for an empty mask. */
  ranking: string[];
  similarity: Record<string, number>;
}

/** What one image scores for the name its prompt asked for. */
export interface ContentScore {
  name: string;
  /** 1 when the asked-for name's held-out glyph is the best match, 2 for the second...; names + 1 when nothing was drawn. */
  rank: number;
  /** The best-matching name; undefined when nothing was drawn. */
  predicted?: string;
  /** Shape similarity to the asked-for name's held-out glyph, in [0, 1]. */
  similarity: number;
}

/** The held-out icon set (lucide), one glyph per name, as features: what content is scored against. */
export class ContentIndex {
  readonly names: readonly string[];
  private readonly features: Map<string, Float32Array | undefined>;

  constructor(library: GlyphLibrary, heldOut: GlyphSet = 'lucide') {
    this.names = library.names;
    this.features = new Map();
    for (const g of library.glyphs) {
      if (g.set !== heldOut) continue;
      if (this.features.has(g.name)) throw new Error(`the ${heldOut} set has two glyphs for "${g.name}"`);
      this.features.set(g.name, glyphFeature(coverageMask(g.coverage, library.size, library.size)));
    }
    const missing = library.names.filter((n) => !this.features.has(n));
    if (missing.length > 0) throw new Error(`the ${heldOut} set has no glyph for ${missing.join(', ')}`);
  }

  retrieve(mask: Mask): Retrieval {
    const feature = glyphFeature(mask);
    const similarity: Record<string, number> = {};
    for (const name of this.names) similarity[name] = featureSimilarity(feature, this.features.get(name));
    // Ties (an empty mask) keep vocabulary order; an empty mask ranks nothing.
    const ranking = feature ? [...this.names].sort((a, b) => similarity[b] - similarity[a]) : [];
    return { ranking, similarity };
  }

  score(mask: Mask, name: string): ContentScore {
    if (!this.names.includes(name)) throw new Error(`"${name}" is not in the vocabulary`);
    const { ranking, similarity } = this.retrieve(mask);
    const rank = ranking.indexOf(name);
    return { name, rank: rank < 0 ? this.names.length + 1 : rank + 1, predicted: ranking[0], similarity: similarity[name] };
  }
}
