/** Reads a field path such as `a.b` from a record; undefined when any step is missing. */
export type FieldReader = (record: unknown) => unknown;

export function fieldReader(path: string): FieldReader {
  const steps = path.split('.');
  if (steps.length === 1) {
    return (record) => (record !== null && typeof record === 'object' ? (record as Record<string, unknown>)[path] : undefined);
  }
  return (record) => {
    let value = record;
    for (const step of steps) {
      if (value === null || typeof value !== 'object') return undefined;
      value = (value as Record<string, unknown>)[step];
    }
    return value;
  };
}
