import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EXPIRY_MARGIN_MS,
  loginUrl,
  parseSession,
  safeNext,
  SESSION_KEY,
  SessionStore,
  type KeyValueStore,
} from './session';

class MemoryStore implements KeyValueStore {
  data = new Map<string, string>();
  getItem(k: string): string | null {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.data.set(k, v);
  }
  removeItem(k: string): void {
    this.data.delete(k);
  }
}

const login = (expires_in: number) => ({
  access_token: 'tok',
  token_type: 'Bearer',
  expires_in,
  user: {
    id: '1',
    email: 'ana@x.com',
    name: 'Ana',
    created_at: '2026-01-01T00:00:00Z',
    last_login_at: null,
    role: 'admin',
    active: true,
  },
});

test('a saved session is valid until it expires (minus the margin), then removed', () => {
  let now = 1_000_000;
  const store = new MemoryStore();
  const s = new SessionStore(store, () => now);
  s.save(login(3600));
  assert.equal(s.token(), 'tok');
  assert.equal(s.current()?.user.name, 'Ana');
  assert.equal(s.msUntilExpiry(), 3600_000 - EXPIRY_MARGIN_MS);
  now += 3600_000 - EXPIRY_MARGIN_MS - 1;
  assert.equal(s.token(), 'tok');
  now += 1;
  assert.deepEqual(s.check(), { session: null, expired: true });
  assert.equal(store.getItem(SESSION_KEY), null);
  assert.deepEqual(s.check(), { session: null, expired: false });
});

test('survives a reload (a new store over the same storage)', () => {
  const store = new MemoryStore();
  new SessionStore(store, () => 0).save(login(60));
  assert.equal(new SessionStore(store, () => 1000).token(), 'tok');
  new SessionStore(store, () => 1000).clear();
  assert.equal(new SessionStore(store, () => 1000).token(), null);
});

test('garbage in storage is no session', () => {
  assert.equal(parseSession('{'), null);
  assert.equal(parseSession('{"token":"x"}'), null);
  assert.equal(parseSession('{"token":"","expiresAt":1,"user":{"id":"1","email":"e","name":"n"}}'), null);
  assert.equal(parseSession('{"token":"x","expiresAt":1,"user":{"id":"1","email":"e","name":"n"}}')?.token, 'x');
});

test('the role is kept, refreshed from /me, and empty for a session saved before roles existed', () => {
  const store = new MemoryStore();
  const s = new SessionStore(store, () => 0);
  assert.equal(s.updateUser({ name: 'Ana', email: 'ana@x.com', role: 'admin' }), false, 'no session yet');
  s.save(login(60));
  assert.equal(s.current()?.user.role, 'admin');
  assert.equal(s.updateUser({ name: 'Ana Souza', email: 'ana@x.com', role: 'suporte' }), true);
  assert.deepEqual(
    { name: s.current()?.user.name, role: s.current()?.user.role, token: s.token() },
    { name: 'Ana Souza', role: 'suporte', token: 'tok' },
  );
  assert.equal(parseSession('{"token":"x","expiresAt":1,"user":{"id":"1","email":"e","name":"n"}}')?.user.role, '');
});

test('works without storage (private mode)', () => {
  const throwing: KeyValueStore = {
    getItem: () => {
      throw new Error('denied');
    },
    setItem: () => {
      throw new Error('denied');
    },
    removeItem: () => {
      throw new Error('denied');
    },
  };
  const s = new SessionStore(throwing, () => 0);
  s.save(login(60));
  assert.equal(s.token(), 'tok');
  s.clear();
  assert.equal(s.token(), null);
});

test('next: only app paths, never the login pages or other origins', () => {
  assert.equal(safeNext('/clientes/4?x=1'), '/clientes/4?x=1');
  assert.equal(safeNext(null), '/');
  assert.equal(safeNext('https://evil.example'), '/');
  assert.equal(safeNext('//evil.example'), '/');
  assert.equal(safeNext('/\\evil.example'), '/');
  assert.equal(safeNext('/entrar?next=/x'), '/');
  assert.equal(safeNext('/cadastro'), '/');
  assert.equal(loginUrl('/eventos?origem=hashtag'), '/entrar?next=%2Feventos%3Forigem%3Dhashtag');
  assert.equal(loginUrl('/'), '/entrar');
});
