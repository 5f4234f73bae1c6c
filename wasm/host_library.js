// The host functions of wasm/host_env.h, for Emscripten's --js-library.
//
// Each one forwards to the host object the loader was given as Module['t4dxHost'] (the
// Node fs host or the OPFS pool host in npm/src/). Host methods are synchronous, take
// plain strings and typed-array views of the WebAssembly memory, and throw on failure; a
// thrown error's `t4dxCode` (a Status code name such as "not_found" or "locked") and
// `message` become the "<code> <message>" that t4dx_host_last_error hands to C++.
//
// No numeric constant is written here: open modes and kinds come from the constants that
// C++ exports (Module['t4dxConstants'], set by the loader before the first engine call).
mergeInto(LibraryManager.library, {
  $T4dxHost: {
    lastError: 'io_error no error',
    fail: function(e) {
      var code = (e && e.t4dxCode) || 'io_error';
      var msg = (e && e.message) ? e.message : String(e);
      T4dxHost.lastError = code + ' ' + msg;
      return -1;
    },
    host: function() {
      var h = Module['t4dxHost'];
      if (!h) throw {t4dxCode: 'failed_precondition', message: 'no host installed'};
      return h;
    },
    k: function() {
      return Module['t4dxConstants'].host;
    },
  },

  t4dx_host_open__deps: ['$T4dxHost'],
  t4dx_host_open: function(path, mode) {
    try {
      var m = T4dxHost.k().openMode;
      var name = mode === m.read ? 'r' : mode === m.truncate ? 'w' : 'a';
      return T4dxHost.host().open(UTF8ToString(path), name);
    } catch (e) { return T4dxHost.fail(e); }
  },

  t4dx_host_close__deps: ['$T4dxHost'],
  t4dx_host_close: function(h) {
    try { T4dxHost.host().close(h); return 0; } catch (e) { return T4dxHost.fail(e); }
  },

  t4dx_host_read__deps: ['$T4dxHost'],
  t4dx_host_read: function(h, offset, buf, n) {
    try {
      return T4dxHost.host().read(h, offset, HEAPU8.subarray(buf, buf + n));
    } catch (e) { return T4dxHost.fail(e); }
  },

  t4dx_host_write__deps: ['$T4dxHost'],
  t4dx_host_write: function(h, offset, buf, n) {
    try {
      return T4dxHost.host().write(h, offset, HEAPU8.subarray(buf, buf + n));
    } catch (e) { return T4dxHost.fail(e); }
  },

  t4dx_host_sync__deps: ['$T4dxHost'],
  t4dx_host_sync: function(h) {
    try { T4dxHost.host().sync(h); return 0; } catch (e) { return T4dxHost.fail(e); }
  },

  t4dx_host_handle_size__deps: ['$T4dxHost'],
  t4dx_host_handle_size: function(h) {
    try { return T4dxHost.host().handleSize(h); } catch (e) { return T4dxHost.fail(e); }
  },

  t4dx_host_size__deps: ['$T4dxHost'],
  t4dx_host_size: function(path) {
    try { return T4dxHost.host().size(UTF8ToString(path)); } catch (e) { return T4dxHost.fail(e); }
  },

  t4dx_host_stat__deps: ['$T4dxHost'],
  t4dx_host_stat: function(path) {
    try {
      var kind = T4dxHost.host().stat(UTF8ToString(path));
      var k = T4dxHost.k().kind;
      return kind === 'file' ? k.file : kind === 'dir' ? k.directory : k.missing;
    } catch (e) { return T4dxHost.fail(e); }
  },

  t4dx_host_list__deps: ['$T4dxHost'],
  t4dx_host_list: function(dir, buf, cap) {
    try {
      var names = T4dxHost.host().list(UTF8ToString(dir));
      var need = 0;
      for (var i = 0; i < names.length; i++) need += lengthBytesUTF8(names[i]) + 1;
      if (need <= cap) {
        var p = buf;
        for (var j = 0; j < names.length; j++) {
          var len = lengthBytesUTF8(names[j]);
          stringToUTF8(names[j], p, len + 1);  // writes the NUL after the name
          p += len + 1;
        }
      }
      return need;
    } catch (e) { return T4dxHost.fail(e); }
  },

  t4dx_host_mkdir__deps: ['$T4dxHost'],
  t4dx_host_mkdir: function(path) {
    try { T4dxHost.host().mkdir(UTF8ToString(path)); return 0; } catch (e) { return T4dxHost.fail(e); }
  },

  t4dx_host_rmdir__deps: ['$T4dxHost'],
  t4dx_host_rmdir: function(path) {
    try { T4dxHost.host().rmdir(UTF8ToString(path)); return 0; } catch (e) { return T4dxHost.fail(e); }
  },

  t4dx_host_remove__deps: ['$T4dxHost'],
  t4dx_host_remove: function(path) {
    try { T4dxHost.host().remove(UTF8ToString(path)); return 0; } catch (e) { return T4dxHost.fail(e); }
  },

  t4dx_host_rename__deps: ['$T4dxHost'],
  t4dx_host_rename: function(from, to) {
    try {
      T4dxHost.host().rename(UTF8ToString(from), UTF8ToString(to));
      return 0;
    } catch (e) { return T4dxHost.fail(e); }
  },

  t4dx_host_truncate__deps: ['$T4dxHost'],
  t4dx_host_truncate: function(path, size) {
    try { T4dxHost.host().truncate(UTF8ToString(path), size); return 0; } catch (e) { return T4dxHost.fail(e); }
  },

  t4dx_host_syncdir__deps: ['$T4dxHost'],
  t4dx_host_syncdir: function(path) {
    try { T4dxHost.host().syncdir(UTF8ToString(path)); return 0; } catch (e) { return T4dxHost.fail(e); }
  },

  t4dx_host_lock__deps: ['$T4dxHost'],
  t4dx_host_lock: function(path) {
    try { return T4dxHost.host().lock(UTF8ToString(path)); } catch (e) { return T4dxHost.fail(e); }
  },

  t4dx_host_unlock__deps: ['$T4dxHost'],
  t4dx_host_unlock: function(id) {
    try { T4dxHost.host().unlock(id); return 0; } catch (e) { return T4dxHost.fail(e); }
  },

  t4dx_host_last_error__deps: ['$T4dxHost'],
  t4dx_host_last_error: function(buf, cap) {
    var s = T4dxHost.lastError;
    if (cap > 0) stringToUTF8(s, buf, cap);
    return lengthBytesUTF8(s);
  },
});
