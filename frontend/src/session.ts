// The staff session: the access token, when it expires and who is signed in, kept in
// localStorage. Storage and clock are injected so the expiry logic can be tested.

import { isRecord } from './json';
import type { LoginResult } from './types';

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  /** `admin` or `suporte` ('' for a session saved by an older version: no admin screens until /me answers). */
  role: string;
}

export interface Session {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  user: SessionUser;
}

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const SESSION_KEY = 'portaria.session';
/** A token this close to its expiry is treated as expired (clock skew, request time). */
export const EXPIRY_MARGIN_MS = 10_000;

export class SessionStore {
  /** Fallback when localStorage cannot be written. */
  private memory: Session | null = null;

  constructor(
    private readonly storage: KeyValueStore | null,
    private readonly now: () => number = Date.now,
  ) {}

  save(login: LoginResult): Session {
    const session: Session = {
      token: login.access_token,
      expiresAt: this.now() + login.expires_in * 1000,
      user: { id: login.user.id, email: login.user.email, name: login.user.name, role: login.user.role },
    };
    this.write(session);
    return session;
  }

  /** Keeps the signed-in user's name and role up to date (from GET /api/auth/me); false without a session. */
  updateUser(user: { name: string; email: string; role: string }): boolean {
    const session = this.current();
    if (!session) return false;
    this.write({ ...session, user: { ...session.user, name: user.name, email: user.email, role: user.role } });
    return true;
  }

  /** The valid session, or null (an expired or unreadable one is removed). */
  current(): Session | null {
    const session = this.read();
    if (!session) return null;
    if (session.expiresAt - EXPIRY_MARGIN_MS <= this.now()) {
      this.clear();
      return null;
    }
    return session;
  }

  /** Like current(), and tells whether a stored session has just been found expired. */
  check(): { session: Session | null; expired: boolean } {
    const stored = this.read();
    const session = this.current();
    return { session, expired: stored !== null && session === null };
  }

  token(): string | null {
    return this.current()?.token ?? null;
  }

  /** Milliseconds until the session must end, or null without a session. */
  msUntilExpiry(): number | null {
    const session = this.current();
    return session ? Math.max(0, session.expiresAt - EXPIRY_MARGIN_MS - this.now()) : null;
  }

  clear(): void {
    this.memory = null;
    try {
      this.storage?.removeItem(SESSION_KEY);
    } catch {
      // storage unavailable (private mode): nothing to clear
    }
  }

  private write(session: Session): void {
    try {
      this.storage?.setItem(SESSION_KEY, JSON.stringify(session));
    } catch {
      // storage unavailable: the session lives until the page is closed
      this.memory = session;
    }
  }

  private read(): Session | null {
    let raw: string | null = null;
    try {
      raw = this.storage?.getItem(SESSION_KEY) ?? null;
    } catch {
      return this.memory;
    }
    if (raw === null) return this.memory;
    return parseSession(raw);
  }
}

export function parseSession(raw: string): Session | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isRecord(value) || !isRecord(value['user'])) return null;
  const { token, expiresAt } = value;
  const { id, email, name, role } = value['user'];
  if (typeof token !== 'string' || !token || typeof expiresAt !== 'number') return null;
  if (typeof id !== 'string' || typeof email !== 'string' || typeof name !== 'string') return null;
  return { token, expiresAt, user: { id, email, name, role: typeof role === 'string' ? role : '' } };
}

const PUBLIC_PATHS = new Set(['/entrar', '/cadastro']);

/** Where to go after signing in: only a same-origin app path, never back to the login pages. */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  const pathname = next.split(/[?#]/)[0] ?? '/';
  return PUBLIC_PATHS.has(pathname) ? '/' : next;
}

/** "/entrar?next=%2Fclientes%3Fq%3Dana" (just "/entrar" when going back to the panel). */
export function loginUrl(next: string): string {
  const target = safeNext(next);
  return target === '/' ? '/entrar' : `/entrar?next=${encodeURIComponent(target)}`;
}
