/**
 * The variables that decide where op keeps its compile cache (src/cli/load-oclif.ts). The
 * one source for the man page's ENVIRONMENT and the README.
 */
export const CACHE_VARIABLES: ReadonlyArray<{ names: readonly string[]; text: string }> = [
  {
    names: ['XDG_CACHE_HOME'],
    text: "op keeps V8's compiled code of its command-line layer in $XDG_CACHE_HOME/opkit/compile-cache (default ~/.cache/opkit/compile-cache), written after a run and checked by V8 before use; each start then skips compiling it.",
  },
  { names: ['NODE_DISABLE_COMPILE_CACHE'], text: 'When set, op neither reads nor writes that cache (as Node does for its own).' },
];
