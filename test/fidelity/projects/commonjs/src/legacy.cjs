const helper = require("./helper.cjs");

module.exports = {
  greeting: helper.greet("commonjs"),
  helperSawRequire: helper.sawRequire,
  legacySawRequire: typeof require,
  sawModule: typeof module,
};
