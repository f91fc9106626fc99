declare const __PACKAGE_VERSION__: string | undefined;

/** Versions this package reports. */
export const VERSION = {
  /** The version of `@confidential-ai/chutes-cli`. */
  package: typeof __PACKAGE_VERSION__ === 'string' ? __PACKAGE_VERSION__ : '0.0.0-dev',
  /**
   * The Python SDK version this port mirrors; sent as `X-Chutes-Version` and used in the `--local` build's
   * `pip install chutes==...` line.
   */
  sdk: '0.5.5.rc47',
} as const;
