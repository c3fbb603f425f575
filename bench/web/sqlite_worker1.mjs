// sqlite_worker1.mjs — the worker behind the sqlite-promiser engine (engines.mjs): sqlite-wasm's
// own Worker1 API (sqlite3.initWorker1API, what the package's sqlite3-worker1.mjs runs) after
// installing the opfs-sahpool VFS, the documented way to give Worker1 that VFS (the package's
// default worker offers only "opfs", which needs SharedArrayBuffer, i.e. COOP/COEP headers).
import sqlite3InitModule from '/node_modules/@sqlite.org/sqlite-wasm/dist/index.mjs';

const sqlite3 = await sqlite3InitModule();
await sqlite3.installOpfsSAHPoolVfs({ name: 'opfs-sahpool', directory: '.bench-promiser-sahpool', clearOnInit: true, initialCapacity: 6 });
sqlite3.initWorker1API();
