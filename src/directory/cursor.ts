/**
 * The listing's opaque cursor (API.md §6 `nextCursor`): the last group id a page covered, so the next
 * page starts after it whatever was created or deleted meanwhile. Base64url of "1:" + the id; anything
 * else is refused (400 INVALID_REQUEST), never looked up.
 */

const NAME = /^[A-Za-z0-9._-]{1,249}$/;
const TAG = "1:";

export function encodeCursor(groupId: string): string {
  return btoa(TAG + groupId)
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** The group id a cursor names, or null for anything that is not a cursor of this listing. */
export function decodeCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]{4,340}$/.test(cursor)) return null;
  let text: string;
  try {
    text = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    return null;
  }
  if (!text.startsWith(TAG)) return null;
  const groupId = text.slice(TAG.length);
  return NAME.test(groupId) ? groupId : null;
}
