// CommonJS inspect entry (require('t4dx/inspect')): loads the ESM implementation on use.
'use strict';

exports.inspect = async (input) => (await import('./inspect_node.js')).inspect(input);
