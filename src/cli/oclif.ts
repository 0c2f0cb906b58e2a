// The bundle's `@oclif/core` (scripts/bundle.mjs): oclif loaded with its compiled code cached.
import { loadOclif } from './load-oclif.js';

export const { Args, Command, Flags, Help, execute } = loadOclif();
