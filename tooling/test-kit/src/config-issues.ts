import { expect } from 'vitest';

/** One problem a configuration error names (the packages' `ConfigError.issues`). */
export interface ConfigIssue {
  /** The TOML key, e.g. `chutes.enabled`. */
  tomlKey: string;
  /** The environment variable that sets it, if any. */
  envVar: string | undefined;
  /** What is wrong, never the value. */
  message: string;
}

/** A package's configuration error class: its static `isInstance` marker check and the class itself. */
export interface ConfigErrorClass {
  /** Whether a value carries the package's error marker. */
  isInstance(value: unknown): boolean;
  /** The class, for `instanceof`. */
  new (...args: never[]): { readonly issues: readonly ConfigIssue[] };
}

/**
 * Runs `run` and returns the issues of the configuration error it throws, expecting (with vitest) that the error
 * carries the package's marker and is an instance of `errorClass`.
 * @throws Error when `run` throws nothing.
 * @example
 * ```ts
 * const issues = configIssuesOf(() => loadTeeGatewayConfig({ text, env: {} }), TeeGatewayConfigError);
 * ```
 */
export function configIssuesOf(run: () => unknown, errorClass: ConfigErrorClass): ConfigIssue[] {
  try {
    run();
  } catch (error) {
    expect(errorClass.isInstance(error) && error instanceof errorClass).toBe(true);
    return [...(error as InstanceType<ConfigErrorClass>).issues];
  }
  throw new Error(`expected a ${errorClass.name}`);
}
