// worker.mjs — runs one worker-side engine of the browser benchmark (see engines.mjs).
import { phases } from './workload.mjs';
import { ADAPTERS, prepareData, runPhases, awaitedGetsUs } from './engines.mjs';

let lat; // the latency profile's database (run.mjs profilePage, bench.html latencyPrepare)

self.onmessage = async (ev) => {
  const { engine, opts } = ev.data;
  const log = (m) => self.postMessage({ log: m });
  if (ev.data.latency) {
    try {
      if (ev.data.latency === 'prepare') {
        const p = phases(opts.n, opts), d = prepareData(p), a = ADAPTERS['pagedb-promise-worker'](d, opts);
        await a.open();
        await a.bulk(0, p.total); // every key the reads may pick
        lat = { a, d, p };
        self.postMessage({ result: true });
      } else if (ev.data.latency === 'remove') {
        // the removals phase: p.removals deletes in one write transaction; µs per delete
        const t0 = performance.now();
        await lat.a.remove(0, lat.p.removals);
        self.postMessage({ result: { count: lat.p.removals, usPerOp: +(((performance.now() - t0) * 1000) / lat.p.removals).toFixed(2) } });
      } else if (ev.data.latency === 'run') {
        self.postMessage({ result: await awaitedGetsUs(lat.a, lat.d, ev.data.count) });
      } else {
        await lat.a.close();
        self.postMessage({ result: true });
      }
    } catch (e) {
      self.postMessage({ error: String(e?.stack ?? e) });
    }
    return;
  }
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
