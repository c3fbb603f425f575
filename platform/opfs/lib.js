/*
 * lib.js — Emscripten JS library: the wasm imports behind vfs_js.c. Each import calls the
 * storage backend installed as Module.pagedbVfs (OPFS in a worker, node:fs under Node) and
 * never lets an exception cross into wasm: it records the error (Module.pagedbLastError,
 * read by the TypeScript layer for the message of the call it happened in) and returns the
 * negative pagedb error code that Module.pagedbErrorCode gives for it — the package's one
 * exception-to-code mapping (js/src/errors.ts errorCodeOf), installed on the module by
 * js/src/boundary.ts before any call into the engine. No error code is written here.
 * Heap views are taken at each call (HEAPU8 is replaced when memory grows).
 */
mergeInto(LibraryManager.library, {
  $pdbjsCall__deps: [],
  $pdbjsCall: function (fn) {
    try {
      return fn(Module['pagedbVfs']);
    } catch (e) {
      Module['pagedbLastError'] = e;
      return -Module['pagedbErrorCode'](e);
    }
  },
  pdbjs_vfs_open__deps: ['$pdbjsCall'],
  pdbjs_vfs_open: function (path, flags) {
    return pdbjsCall(function (b) { return b.open(UTF8ToString(path), flags); });
  },
  pdbjs_vfs_close__deps: ['$pdbjsCall'],
  pdbjs_vfs_close: function (h) {
    return pdbjsCall(function (b) { b.close(h); return 0; });
  },
  pdbjs_vfs_read__deps: ['$pdbjsCall'],
  pdbjs_vfs_read: function (h, ptr, n, off) {
    return pdbjsCall(function (b) { return b.read(h, HEAPU8.subarray(ptr, ptr + n), off); });
  },
  pdbjs_vfs_write__deps: ['$pdbjsCall'],
  pdbjs_vfs_write: function (h, ptr, n, off) {
    return pdbjsCall(function (b) {
      var w = b.write(h, HEAPU8.subarray(ptr, ptr + n), off);
      /* a short write or an impossible count (Chromium reports huge counts on quota errors):
         1, which vfs_js.c reports as PAGEDB_EFULL */
      if (w !== n) { Module['pagedbLastError'] = new Error('short write: ' + w + ' of ' + n + ' bytes (storage full?)'); return 1; }
      return 0;
    });
  },
  pdbjs_vfs_sync__deps: ['$pdbjsCall'],
  pdbjs_vfs_sync: function (h) {
    return pdbjsCall(function (b) { b.sync(h); return 0; });
  },
  pdbjs_vfs_size__deps: ['$pdbjsCall'],
  pdbjs_vfs_size: function (h) {
    return pdbjsCall(function (b) { return b.size(h); });
  },
  pdbjs_vfs_truncate__deps: ['$pdbjsCall'],
  pdbjs_vfs_truncate: function (h, size) {
    return pdbjsCall(function (b) { b.truncate(h, size); return 0; });
  },
  pdbjs_vfs_lock__deps: ['$pdbjsCall'],
  pdbjs_vfs_lock: function (h, mode) {
    return pdbjsCall(function (b) { return b.lock(h, mode); });
  },
  pdbjs_vfs_remove__deps: ['$pdbjsCall'],
  pdbjs_vfs_remove: function (path) {
    return pdbjsCall(function (b) { b.remove(UTF8ToString(path)); return 0; });
  },
  pdbjs_vfs_list__deps: ['$pdbjsCall'],
  pdbjs_vfs_list: function (dir, ptr, cap) {
    return pdbjsCall(function (b) {
      var names = b.list(UTF8ToString(dir)).join('\n');
      var need = lengthBytesUTF8(names);
      if (ptr && cap > 0) stringToUTF8(names, ptr, cap);
      return need;
    });
  },
  pdbjs_vfs_mkdir__deps: ['$pdbjsCall'],
  pdbjs_vfs_mkdir: function (dir) {
    return pdbjsCall(function (b) { b.mkdir(UTF8ToString(dir)); return 0; });
  },
  pdbjs_vfs_random__deps: ['$pdbjsCall'],
  pdbjs_vfs_random: function (ptr, n) {
    return pdbjsCall(function (b) { b.random(HEAPU8.subarray(ptr, ptr + n)); return 0; });
  },
  pdbjs_vfs_rename__deps: ['$pdbjsCall'],
  pdbjs_vfs_rename: function (from, to) {
    return pdbjsCall(function (b) {
      if (typeof b.rename !== 'function') return 1; /* vfs_js.c: PAGEDB_ENOTSUP */
      b.rename(UTF8ToString(from), UTF8ToString(to));
      return 0;
    });
  },
  pdbjs_vfs_now: function () {
    return Date.now();
  },
});
