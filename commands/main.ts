// The CLI's single entry: the command table and oclif's runner, bundled together into
// dist/op.mjs by scripts/bundle.mjs so start-up loads one file.
export { execute } from '@oclif/core';
export { COMMANDS } from './index.js';
