// worker.mjs — runs one worker-side engine of the browser benchmark (see engines.mjs).
import { phases } from './workload.mjs';
import { ADAPTERS, prepareData, runPhases } from './engines.mjs';

self.onmessage = async (ev) => {
  const { engine, opts } = ev.data;
  const log = (m) => self.postMessage({ log: m });
  try {
    const p = phases(opts.n, opts);
    const t0 = performance.now();
    const d = prepareData(p);
    log(`${engine}: workload prepared in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const res = await runPhases(ADAPTERS[engine](d, opts), p, d, log);
    self.postMessage({ result: res });
  } catch (e) {
    self.postMessage({ error: String(e?.stack ?? e) });
  }
};
