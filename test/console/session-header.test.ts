/**
 * The session header says who is signed in: the token's `sub`, escaped like any text, cleaned of
 * control and bidi-override characters, cut to SUBJECT_SHOWN characters with an ellipsis, and left out
 * when the token has no `sub`.
 */

import { describe, expect, it } from "vitest";
import { SUBJECT_SHOWN, subjectText } from "../../src/console/format";
import { token } from "../integration/helpers";
import { ok, testids } from "./console-helpers";

const header = async (claims: Record<string, unknown>) => {
  const html = await ok("/console/groups", { session: await token(claims) });
  return { html, subject: await testids(html, "session-subject") };
};

describe("session header", () => {
  it("shows the token's sub next to the session's end", async () => {
    const { subject } = await header({ sub: "alice@example.com" });
    expect(subject).toHaveLength(1);
    expect(subject[0]!.text).toBe("Signed in as alice@example.com");
  });

  it("escapes a hostile sub and never lets it into the markup", async () => {
    const { html, subject } = await header({ sub: '<img src=x onerror="alert(1)">&amp;' });
    expect(subject[0]!.text).toBe('Signed in as <img src=x onerror="alert(1)">&amp;');
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;amp;");
    expect(html).not.toContain("<img src=x");
  });

  it("cuts a long sub to SUBJECT_SHOWN characters with an ellipsis", async () => {
    const long = `${"é".repeat(10)}${"x".repeat(6000)}`;
    const { html, subject } = await header({ sub: long });
    const shown = subject[0]!.text.replace("Signed in as ", "");
    expect(Array.from(shown)).toHaveLength(SUBJECT_SHOWN);
    expect(shown.endsWith("…")).toBe(true);
    expect(html).not.toContain("x".repeat(SUBJECT_SHOWN));
  });

  it("is absent when the token has no sub", async () => {
    expect((await header({})).subject).toHaveLength(0);
  });

  it("drops control and bidi-override characters and keeps surrogate pairs whole", () => {
    expect(subjectText("ops\u202Enimda\u0000")).toBe("opsnimda");
    expect(subjectText("\u0007\u202E")).toBe("(a subject without printable characters)");
    const emoji = subjectText("🦊".repeat(100));
    expect(Array.from(emoji)).toEqual([...Array(SUBJECT_SHOWN - 1).fill("🦊"), "…"]);
  });
});
