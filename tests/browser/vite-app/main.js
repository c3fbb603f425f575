// A fresh Vite app that installs the packed pagedb tarball: counts its visits in OPFS.
import { open } from 'pagedb';
const out = document.getElementById('out');
const key = new Uint8Array(32).fill(3);
const db = await open('app', { key });
const n = Number(new TextDecoder().decode((await db.read((tx) => tx.table('visits').get('count'))) ?? new TextEncoder().encode('0')));
await db.write((tx) => tx.table('visits').put('count', String(n + 1)));
out.textContent = `visits: ${n + 1}`;
await db.close();
