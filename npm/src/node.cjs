// CommonJS entry (require('t4dx')) for Node: every API call is asynchronous, so this shim
// loads the ESM implementation (node.js) on first use.
'use strict';

let impl = null;
function load() {
  if (!impl) impl = import('./node.js');
  return impl;
}

exports.open = async (options) => (await load()).open(options);
exports.constants = async () => (await load()).constants();

// T4dxError is needed synchronously for instanceof checks: a structurally identical class
// would not pass instanceof, so expose a loader instead.
exports.errorClass = async () => (await load()).T4dxError;
