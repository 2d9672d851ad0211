// ESLint (flat config) for the extension and its JavaScript tests. scripts/test runs it through
// tests/unit/test_javascript.py; `node_modules/.bin/eslint .` runs it by hand.
//
// Each part of the extension runs in a different place, so each gets its own globals and module
// kind: a wrong environment hides real mistakes (a `document` in the service worker, a stray
// global in a content script) or drowns them in noise.
import js from "@eslint/js";
import globals from "globals";

/** The WebExtension namespaces: `chrome` (Chromium, Firefox) and `browser` (Firefox). */
const webextensions = globals.webextensions;

export default [
  {
    ignores: [
      "node_modules/",
      ".venv/",
      "demo-output/",
      "build/",
      "dist/",
      "web-ext-artifacts/",
    ],
  },

  js.configs.recommended,

  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
    languageOptions: { ecmaVersion: "latest" },
    rules: {
      // Unused parameters before a used one are kept (listener signatures); `_name` marks one
      // kept on purpose.
      "no-unused-vars": [
        "error",
        { args: "after-used", argsIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
      // `x == null` still covers null and undefined together; anything else compares strictly.
      eqeqeq: ["error", "smart"],
      "no-var": "error",
      "prefer-const": ["error", { destructuring: "all" }],
      // A use before the declaration in the same scope throws (temporal dead zone); uses inside
      // functions that run later are fine.
      "no-use-before-define": ["error", { functions: false, classes: false, variables: false }],
      // Mistakes that run without an error and do the wrong thing.
      "array-callback-return": ["error", { checkForEach: false }],
      "no-promise-executor-return": "error",
      "no-template-curly-in-string": "error",
      "no-self-compare": "error",
      "no-unmodified-loop-condition": "error",
      "no-unreachable-loop": "error",
      "no-constructor-return": "error",
      "no-throw-literal": "error",
      "prefer-promise-reject-errors": "error",
      "default-case-last": "error",
      "no-useless-assignment": "error",
    },
  },

  // Anything else in the extension: a classic browser script, until a block below says otherwise.
  {
    files: ["extension/**/*.js"],
    languageOptions: {
      sourceType: "script",
      globals: { ...globals.browser, ...webextensions },
    },
  },

  // The background: ES modules in a service worker (no DOM, no window).
  {
    files: ["extension/background/**/*.js"],
    languageOptions: {
      sourceType: "module",
      globals: { ...globals.serviceworker, ...webextensions },
    },
  },

  // The extension's own pages: ES modules in a browser page.
  {
    files: ["extension/popup/**/*.js", "extension/options/**/*.js"],
    languageOptions: {
      sourceType: "module",
      globals: { ...globals.browser, ...webextensions },
    },
  },

  // Content scripts and the shared library: classic scripts (content scripts cannot be modules).
  // Every classic script of an extension on one page shares one global scope, so a top-level
  // declaration in one file collides with (or silently feeds) another. They share on purpose only
  // through named namespaces on globalThis (globalThis.etmaProtocol, ...), inside an IIFE.
  {
    files: ["extension/content/**/*.js", "extension/lib/**/*.js"],
    languageOptions: {
      sourceType: "script",
      globals: { ...globals.browser, ...webextensions },
    },
    rules: {
      "no-implicit-globals": ["error", { lexicalBindings: true }],
    },
  },

  // JavaScript unit tests: Node ES modules run by `node --test tests/js/`.
  {
    files: ["tests/js/**/*.mjs", "tests/js/**/*.js"],
    languageOptions: {
      sourceType: "module",
      globals: { ...globals.node },
    },
  },

  // A script a hostile page runs (tests/e2e/test_hostile_page.py); the test replaces the word
  // EXTENSION_ID with the extension's id before injecting it.
  {
    files: ["tests/e2e/**/*.js"],
    languageOptions: {
      sourceType: "script",
      globals: { ...globals.browser, chrome: "readonly", EXTENSION_ID: "readonly" },
    },
    rules: {
      "no-implicit-globals": ["error", { lexicalBindings: true }],
    },
  },

  // This file and any other tooling at the top level: Node ES modules.
  {
    files: ["*.js", "*.mjs"],
    languageOptions: {
      sourceType: "module",
      globals: { ...globals.node },
    },
  },
];
