/** The types a handler author needs; `import type { Mapper } from 'opkit'`. */
export type { BatchMapper, Context, Mapper, Predicate, Setup, Slicer, Teardown } from './core/types.js';
