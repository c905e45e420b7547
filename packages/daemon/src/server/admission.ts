export interface AdmissionLimits {
  /** Paired connections. */
  paired: number;
  /** Connections that have not paired yet. */
  unpaired: number;
}

/**
 * How a paired connection may be chosen to make room: `closing` ones are leaving anyway, `idle`
 * ones (since when) lose nothing but the connection, `busy` ones are never chosen.
 */
export type Standing = { state: 'closing' } | { state: 'idle'; since: number } | { state: 'busy' };

export type Pairing<C> = { admitted: true; displaced?: C } | { admitted: false };

/**
 * Who holds a connection slot, in two budgets, so that sockets that never pair cannot keep a paired
 * client out. It only counts and chooses; closing the connections it names is the caller's.
 */
export class Admission<C> {
  /** In arrival order: the first is the oldest. */
  private readonly unpaired = new Set<C>();
  private readonly paired = new Set<C>();

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly standing: (connection: C) => Standing,
  ) {}

  /**
   * Takes in a new connection, always. At the limit the oldest unpaired connection gives up its
   * slot and is returned: a real client pairs within one round trip of connecting, so the oldest
   * is the least likely to be one, and a newcomer is never kept out by sockets that idle.
   */
  arrive(connection: C): C | undefined {
    let displaced: C | undefined;
    if (this.unpaired.size >= this.limits.unpaired) {
      displaced = this.unpaired.values().next().value;
      if (displaced !== undefined) this.unpaired.delete(displaced);
    }
    this.unpaired.add(connection);
    return displaced;
  }

  /**
   * Moves a connection that has paired into the paired budget. At the limit, a closing connection,
   * else the one idle the longest, gives up its slot and is returned; when all are busy the
   * newcomer is refused (and no longer counted).
   */
  pair(connection: C): Pairing<C> {
    this.unpaired.delete(connection);
    if (this.paired.size < this.limits.paired) {
      this.paired.add(connection);
      return { admitted: true };
    }
    const displaced = this.leastNeeded();
    if (displaced === undefined) return { admitted: false };
    this.paired.delete(displaced);
    this.paired.add(connection);
    return { admitted: true, displaced };
  }

  /** A connection that has closed, or was displaced. */
  leave(connection: C): void {
    this.unpaired.delete(connection);
    this.paired.delete(connection);
  }

  get counts(): { paired: number; unpaired: number } {
    return { paired: this.paired.size, unpaired: this.unpaired.size };
  }

  private leastNeeded(): C | undefined {
    let chosen: C | undefined;
    let chosenSince = Infinity;
    for (const connection of this.paired) {
      const standing = this.standing(connection);
      if (standing.state === 'closing') return connection;
      if (standing.state === 'idle' && standing.since < chosenSince) {
        chosen = connection;
        chosenSince = standing.since;
      }
    }
    return chosen;
  }
}
