// A fresh Vite app that installs the packed pagedb tarball: counts its visits in OPFS. With
// ?restore it also backs the database up and restores it under another name
// (exportSnapshot, importSnapshot: both loaded on first use, not part of the first load).
// With ?rotate it rotates the data keys, with ?compact it compacts (db.rotateKeys,
// db.compact: each loads the full module on first use).
import { open, importSnapshot } from 'pagedb';
const out = document.getElementById('out');
const key = new Uint8Array(32).fill(3);
const db = await open('app', { key });
const count = async (d) => Number(new TextDecoder().decode((await d.read((tx) => tx.table('visits').get('count'))) ?? new TextEncoder().encode('0')));
const n = await count(db);
await db.write((tx) => tx.table('visits').put('count', String(n + 1)));
out.textContent = `visits: ${n + 1}`;
if (location.search === '?restore') {
  await importSnapshot(`copy-${n + 1}`, db.exportSnapshot(), { key });
  const copy = await open(`copy-${n + 1}`, { key, create: false });
  out.textContent = `restored visits: ${await count(copy)}`;
  await copy.close();
}
if (location.search === '?rotate') {
  const r = await db.rotateKeys();
  out.textContent = `rotated: ${r.done} visits: ${await count(db)}`;
}
if (location.search === '?compact') {
  const r = await db.compact();
  out.textContent = `compacted: ${r.done} visits: ${await count(db)}`;
}
await db.close();
