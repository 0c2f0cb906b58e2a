const t0 = performance.now();
const { execute } = await import('../dist/src/bundle/op.mjs');
const t1 = performance.now();
process.on('exit', () => { console.error(`start ${t0.toFixed(1)} import ${(t1 - t0).toFixed(1)} run ${(performance.now() - t1).toFixed(1)}`); });
await execute({ dir: new URL('./run.js', import.meta.url).href });
