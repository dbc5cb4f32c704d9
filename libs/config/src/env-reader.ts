/** Reads variables from an environment, collecting every problem instead of stopping at the first. */
export class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Record<string, string | undefined>) {}

  string(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v === '' ? undefined : v;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      this.problems.push(`${name}=${JSON.stringify(raw)}: must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  /** A number of seconds that may have a fraction (`0.25`). */
  seconds(name: string, fallback: number, min: number, max: number): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || n < min || n > max) {
      this.problems.push(`${name}=${JSON.stringify(raw)}: must be a number of seconds from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (!allowed.includes(raw as T)) {
      this.problems.push(`${name}=${JSON.stringify(raw)}: must be one of ${allowed.join(', ')}`);
      return fallback;
    }
    return raw as T;
  }

  list<T extends string>(name: string, allowed: readonly T[] | null, fallback: T[]): T[] {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const items = raw.split(/[\s,]+/).filter(Boolean) as T[];
    const bad = allowed ? items.filter((i) => !allowed.includes(i)) : [];
    if (bad.length > 0) {
      this.problems.push(`${name}: unknown value(s) ${bad.join(', ')}; allowed: ${allowed!.join(', ')}`);
      return fallback;
    }
    return items;
  }

  url(name: string, fallback: string | undefined, protocols: string[], what = 'a URL'): string | undefined {
    const raw = this.string(name) ?? fallback;
    if (raw === undefined) return undefined;
    if (!URL.canParse(raw) || !protocols.includes(new URL(raw).protocol)) {
      this.problems.push(`${name}: must be ${what} (${protocols.join(' or ')})`);
      return undefined;
    }
    return raw;
  }

  secret(name: string, minLength: number): string | undefined {
    const raw = this.string(name);
    if (raw !== undefined && raw.length < minLength) {
      this.problems.push(`${name}: must be at least ${minLength} characters`);
      return undefined;
    }
    return raw;
  }

  /** A JSON object of strings, such as `{"notes:read":"Read your notes"}`. */
  stringMap(name: string): Record<string, string> {
    const raw = this.string(name);
    if (raw === undefined) return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === 'string')) {
      this.problems.push(`${name}: must be a JSON object of strings`);
      return {};
    }
    return { ...(parsed as Record<string, string>) };
  }

  require<T>(name: string, value: T | undefined, why: string): T {
    if (value === undefined) this.problems.push(`${name}: required (${why})`);
    return value as T;
  }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
