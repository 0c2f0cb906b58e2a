/**
 * `value instanceof type`, false where asking throws: instanceof runs the value's
 * getPrototypeOf, which a revoked Proxy (or a Proxy's own trap) makes throw.
 */
export function isInstance<T>(value: unknown, type: abstract new (...args: never[]) => T): value is T {
  try {
    return value instanceof type;
  } catch {
    return false;
  }
}
