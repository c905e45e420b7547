/** Merge ranks keyed by `"left right"` (symbols never contain spaces); lower merges first. */
export type MergeRanks = ReadonlyMap<string, number>;

export const END_OF_WORD = '</w>';

/**
 * CLIP's byte-pair encoding of one byte-encoded word: start from its characters with `</w>`
 * on the last, then repeatedly merge every occurrence (left to right) of the adjacent pair
 * with the lowest rank until no pair has a rank.
 */
export function bytePairEncode(word: string, ranks: MergeRanks): string[] {
  const chars = [...word];
  let symbols = [...chars.slice(0, -1), chars[chars.length - 1] + END_OF_WORD];
  while (symbols.length > 1) {
    let best: string | undefined;
    let bestRank = Infinity;
    for (let i = 0; i < symbols.length - 1; i++) {
      const rank = ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        best = `${symbols[i]} ${symbols[i + 1]}`;
      }
    }
    if (best === undefined) break;
    const merged: string[] = [];
    for (let i = 0; i < symbols.length; i++) {
      if (i < symbols.length - 1 && `${symbols[i]} ${symbols[i + 1]}` === best) {
        merged.push(symbols[i] + symbols[i + 1]);
        i++;
      } else {
        merged.push(symbols[i]);
      }
    }
    symbols = merged;
  }
  return symbols;
}
