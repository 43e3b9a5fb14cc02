/**
 * Merging user options over frozen defaults. An explicit `undefined` (an unset CLI flag passed
 * through) must not erase a default, which a plain spread would do.
 */

/** `obj` without its undefined-valued keys, ready to spread over a defaults object. */
export function definedOnly<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
