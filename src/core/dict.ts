/**
 * Plain objects keyed by client strings, made safe. Topic names such as `__proto__`, `constructor` or
 * `toString` are valid (API.md §1), and on an ordinary object they collide with `Object.prototype`:
 * `obj[t] = v` with `__proto__` replaces the prototype instead of adding a key, and `obj[t] ?? x`
 * with `constructor` finds a function. Every object that the core keys by a client string is
 * created here with a null prototype and read through `own`, so a name is only ever an own key.
 *
 * Objects rather than Maps where a value is persisted as JSON (member rows, the group row): a
 * null-prototype object serializes like any other, and `dictFrom` rebuilds one from `JSON.parse`'s
 * output, which holds `__proto__` as an own key but inherits from `Object.prototype`.
 */

export type Dict<T> = Record<string, T>;

/** A new, empty object with no prototype. */
export const dict = <T>(): Dict<T> => Object.create(null) as Dict<T>;

/** The own value at `key`, never an inherited one. */
export const own = <T>(obj: Readonly<Dict<T>>, key: string): T | undefined =>
  Object.hasOwn(obj, key) ? obj[key] : undefined;

/** A null-prototype copy of an object's own entries (e.g. one that came from `JSON.parse`). */
export function dictFrom<T>(obj: Readonly<Dict<T>> | null | undefined): Dict<T> {
  const out = dict<T>();
  if (obj) for (const key of Object.keys(obj)) out[key] = obj[key] as T;
  return out;
}

/** A null-prototype object from entries; a repeated key keeps its last value, as with a Map. */
export function dictOf<T>(entries: Iterable<readonly [string, T]>): Dict<T> {
  const out = dict<T>();
  for (const [key, value] of entries) out[key] = value;
  return out;
}
