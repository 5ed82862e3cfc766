// ESLint's flat config for the package's JavaScript (.ci/run: npm ci && npx eslint heatmap_latent).
// The explorer's two files are classic scripts that open from file:// and share the page's globals;
// the Latent tab's are ES modules that TensorBoard loads.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["heatmap_latent/explorer/*.js"],
    languageOptions: {
      sourceType: "script",
      ecmaVersion: 2022,
      globals: { ...globals.browser },
    },
    rules: { "no-unused-vars": ["error", { args: "none" }] },
  },
  {
    files: ["heatmap_latent/latent_tab/static/*.js"],
    languageOptions: { sourceType: "module", ecmaVersion: 2022, globals: { ...globals.browser } },
    rules: { "no-unused-vars": ["error", { args: "none" }] },
  },
  {
    // a newcomer reads a script in one sitting: no file over 200 lines, no function over 80
    // (a file's wrapping IIFE aside, which eslint does not count)
    files: ["heatmap_latent/**/*.js"],
    rules: {
      "max-lines": ["error", { max: 200 }],
      "max-lines-per-function": ["error", { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
];
