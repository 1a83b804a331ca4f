// A CommonJS module, as many npm dependencies still are.
exports.greet = (name) => `hello, ${name}`;
exports.sawRequire = typeof require;
