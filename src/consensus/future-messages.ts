type Bytes = Uint8Array

/** Messages for heights ahead of ours kept until we get there. */
export const MAX_FUTURE_MESSAGES = 2_000
/** How far ahead of the height being decided a message is kept. */
const MAX_AHEAD = 2

/**
 * Consensus messages that arrived before their height started here (a peer a little ahead, or a
 * height this node has not started yet), replayed when it starts. Bounded in count and in how far
 * ahead a message may be.
 */
export class FutureMessages {
  private readonly messages: {height: number; wire: Bytes}[] = []

  /** Keeps `wire` for `height` when it is at most MAX_AHEAD past `current` and there is room. */
  add(height: number, wire: Bytes, current: number): void {
    if (height <= current + MAX_AHEAD && this.messages.length < MAX_FUTURE_MESSAGES) this.messages.push({height, wire})
  }

  has(height: number): boolean {
    return this.messages.some((m) => m.height === height)
  }

  /** Removes and returns the messages of `height` (in arrival order); older ones are dropped too. */
  take(height: number): Bytes[] {
    const taken = this.messages.filter((m) => m.height === height).map((m) => m.wire)
    this.drop(height)
    return taken
  }

  /** Drops the messages of every height up to `upTo`. */
  drop(upTo: number): void {
    for (let i = this.messages.length - 1; i >= 0; i--) if (this.messages[i]!.height <= upTo) this.messages.splice(i, 1)
  }
}
