/** The assignor registry: cohort's coordinator and client SDK look assignors up by protocol name. */
import { rangeAssignor } from "./range";
import { roundRobinAssignor } from "./roundrobin";
import { cooperativeStickyAssignor, stickyAssignor } from "./sticky";
import type { Assignor } from "./types";
import { uniformAssignor } from "./uniform";

export type { Assignment, Assignor, GroupSpec, MemberSpec } from "./types";

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
