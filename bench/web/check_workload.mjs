// check_workload.mjs — the same lines as check_workload.c, from the JS port (workload.mjs).
import { key, val, pick, hex } from './workload.mjs';
for (const i of [0, 1, 2, 99999, 100999, 201000]) {
  console.log(`key ${i} ${hex(key(i))}`);
  console.log(`val ${i} ${hex(val(i))}`);
}
for (let r = 0; r < 4; r++) console.log(`pick ${r} ${pick(r, 201000)}`);
