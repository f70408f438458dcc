import { expect, it } from "vitest";

it("unit", () => expect(1 + 1).toBe(2));
