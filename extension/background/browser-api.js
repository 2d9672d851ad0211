/*
 * The browser's extension API, whichever name this browser gives it: Firefox has `browser`
 * (promise-based), Chromium `chrome` (promise-based in MV3). Every background module takes it
 * from here, so the choice is made once.
 */

/** @type {typeof chrome} */
export const api = globalThis.browser ?? globalThis.chrome;
