/**
 * The classic group's states and their legal predecessors, declared in one table as Kafka's
 * `ClassicGroupState` does, so every transition is checked against it and an illegal one is a bug
 * that fails loudly instead of leaving the group in a state no handler expects.
 */

export type ClassicState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead";

/** For each state, the states the group may move to it from. */
export const LEGAL_PREDECESSORS: Readonly<Record<ClassicState, readonly ClassicState[]>> = {
  // The last member left or expired while a rebalance completed with nobody in it.
  Empty: ["PreparingRebalance"],
  // A member joined, left, expired, or changed its protocols.
  PreparingRebalance: ["Stable", "CompletingRebalance", "Empty"],
  // Every member rejoined, or the rebalance timeout passed.
  CompletingRebalance: ["PreparingRebalance"],
  // The leader's assignments arrived.
  Stable: ["CompletingRebalance"],
  // Not reached by the protocol today (a deleted group is dropped), kept for Kafka parity.
  Dead: ["Stable", "PreparingRebalance", "CompletingRebalance", "Empty", "Dead"],
};

export function isLegalTransition(from: ClassicState, to: ClassicState): boolean {
  return LEGAL_PREDECESSORS[to].includes(from);
}

/** Throws on an illegal transition: it can only come from a bug in the state machine. */
export function assertTransition(groupId: string, from: ClassicState, to: ClassicState): void {
  if (!isLegalTransition(from, to)) {
    throw new Error(`cohort: group ${groupId} cannot move from ${from} to ${to}`);
  }
}

/** States from which a rebalance may start (Kafka's `canRebalance`). */
export const canRebalance = (state: ClassicState): boolean => isLegalTransition(state, "PreparingRebalance");
