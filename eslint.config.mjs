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
];
