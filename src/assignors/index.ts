/** The assignor registry: cohort's coordinator and client SDK look assignors up by protocol name. */
import { cooperativeStickyAssignor, stickyAssignor, uniformAssignor } from "./balanced-sticky.ts";
import { rangeAssignor, roundRobinAssignor } from "./range-roundrobin.ts";
import type { Assignor } from "./types.ts";

export type { Assignment, Assignor, GroupSpec, MemberSpec } from "./types.ts";

const ASSIGNORS: ReadonlyMap<string, Assignor> = new Map(
  [uniformAssignor, rangeAssignor, roundRobinAssignor, stickyAssignor, cooperativeStickyAssignor].map((a) => [
    a.name,
    a,
  ]),
);

export const ASSIGNOR_NAMES: readonly string[] = Object.freeze([...ASSIGNORS.keys()]);

export const DEFAULT_SERVER_ASSIGNOR = "uniform";

export function getAssignor(name: string): Assignor | undefined {
  return ASSIGNORS.get(name);
}
