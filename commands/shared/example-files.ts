/**
 * The last paragraph of every command's description: the examples' files are the
 * user's, since the package ships none (scripts/gen-readme.mjs says it once instead).
 */
export const EXAMPLE_FILES = 'In the examples, files such as data.ndjson and ./embed.ts stand for your own; opkit does not ship them. Examples that start from echo or printf run as they are.';
