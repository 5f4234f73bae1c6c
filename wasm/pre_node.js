// --pre-js of the Node loader: Emscripten 3.1.6 would fetch() the .wasm by file path under
// Node 20 (which has a global fetch); hide fetch inside the module so it reads the file.
var fetch = undefined;
