// Entry point: wires the session, the API client, the live stream and the router to the screens.

import { ApiClient, type ApiError } from './api';
import { mount } from './dom';
import { errorMessage } from './errors';
import { isAdminRoute, isPublicRoute, routeUrl, Router, type Route, type RouteName } from './router';
import { auditScreen } from './screens/audit';
import { catalogScreen } from './screens/catalog';
import { customerScreen } from './screens/customer';
import { customersScreen } from './screens/customers';
import { dashboardScreen } from './screens/dashboard';
import { eventsScreen } from './screens/events';
import { forbiddenScreen } from './screens/forbidden';
import { loginScreen } from './screens/login';
import { notFoundScreen } from './screens/not-found';
import { passwordScreen } from './screens/password';
import type { AppContext, Screen, ScreenFactory } from './screens/screen';
import { signupScreen } from './screens/signup';
import { settingsScreen } from './screens/settings';
import { mailScreen } from './screens/mail';
import { teamScreen } from './screens/team';
import { importScreen } from './screens/import';
import { treatmentsScreen } from './screens/treatments';
import { loginUrl, safeNext, SESSION_KEY, SessionStore, type KeyValueStore } from './session';
import { LiveStream } from './stream';
import { appShell, publicShell, type Shell } from './ui/shell';

const SCREENS: Record<RouteName, ScreenFactory> = {
  login: loginScreen,
  signup: signupScreen,
  dashboard: dashboardScreen,
  customers: customersScreen,
  customer: customerScreen,
  events: eventsScreen,
  treatments: treatmentsScreen,
  team: teamScreen,
  audit: auditScreen,
  settings: settingsScreen,
  mail: mailScreen,
  password: passwordScreen,
  import: importScreen,
  catalog: catalogScreen,
  notFound: notFoundScreen,
};

const EXPIRED_MESSAGE = 'Sua sessão expirou. Entre novamente.';

function localStore(): KeyValueStore | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

const root = document.getElementById('app') ?? document.body;
const session = new SessionStore(localStore());
let flash: string | null = null;
let screen: Screen | null = null;
let shell: Shell | null = null;
let expiryTimer: ReturnType<typeof setTimeout> | undefined;

const api = new ApiClient({
  fetch: (input, init) => fetch(input, init),
  getToken: () => session.token(),
  // A deactivated account or a password changed elsewhere (`session_revoked`) says so; anything else "expired".
  onUnauthorized: (error: ApiError) =>
    endSession(error.code === 'session_revoked' ? errorMessage(error) : EXPIRED_MESSAGE),
});
const stream = new LiveStream({ open: (signal) => api.openStream(signal) });
const router = new Router(render);

const ctx: AppContext = {
  api,
  router,
  stream,
  session,
  signedIn(login, next) {
    session.save(login);
    scheduleExpiry();
    router.navigate(safeNext(next), { replace: true });
  },
  sessionRenewed(login) {
    session.save(login);
    scheduleExpiry();
  },
  setFlash(message) {
    flash = message;
  },
  takeFlash() {
    const message = flash;
    flash = null;
    return message;
  },
};

/** Leaves the signed-in area: to /entrar?next=<where the user was>, with a message. */
function endSession(message: string | null, keepPlace = true): void {
  clearTimeout(expiryTimer);
  session.clear();
  stream.stop();
  shell?.dispose();
  shell = null;
  const route = router.current();
  if (isPublicRoute(route.name)) return;
  flash = message;
  router.navigate(keepPlace ? loginUrl(route.url) : '/entrar', { replace: keepPlace });
}

function scheduleExpiry(): void {
  clearTimeout(expiryTimer);
  const ms = session.msUntilExpiry();
  if (ms !== null) expiryTimer = setTimeout(() => endSession(EXPIRED_MESSAGE), Math.min(ms, 2 ** 31 - 1));
}

function render(route: Route, initial: boolean): void {
  const { session: current, expired } = session.check();
  if (!isPublicRoute(route.name) && !current) {
    if (expired) flash = EXPIRED_MESSAGE;
    router.navigate(loginUrl(route.url), { replace: true });
    return;
  }
  if (route.name === 'login' && current) {
    router.navigate(safeNext(route.query.get('next')), { replace: true });
    return;
  }

  screen?.dispose?.();
  let main: HTMLElement;
  if (isPublicRoute(route.name)) {
    shell?.dispose();
    shell = null;
    stream.stop();
    const frame = publicShell();
    mount(root, frame.root);
    main = frame.main;
  } else {
    if (!shell) {
      shell = appShell({
        onLogout: () => endSession('Você saiu da Portaria.', false),
        onSearch: (term) => router.navigate(routeUrl('customers', {}, { q: term })),
      });
      mount(root, shell.root);
      refreshUser();
    }
    if (current) {
      shell.setUser(current.user.name, current.user.email);
      shell.setRole(current.user.role);
    }
    shell.setActive(route.name);
    stream.start();
    main = shell.main;
  }

  const allowed = !isAdminRoute(route.name) || current?.user.role === 'admin';
  screen = (allowed ? SCREENS[route.name] : forbiddenScreen)(ctx, route);
  mount(main, screen.el);
  document.title = `${screen.title} · Portaria`;
  // A search box gets the focus on devices with a mouse; on phones it would pop the keyboard up.
  const fine = window.matchMedia?.('(pointer: fine)').matches ?? true;
  const target = (fine ? screen.focus : undefined) ?? (initial ? null : screen.el.querySelector<HTMLElement>('h1'));
  target?.focus();
  if (!initial) window.scrollTo(0, 0);
}

/**
 * Reads the signed-in user again (name, role): an administrator may have changed the role since the sign-in.
 * Renders again when the role changed the answer for the current screen. A revoked session ends here too.
 */
function refreshUser(): void {
  const before = session.current()?.user.role;
  api.me().then(
    (user) => {
      if (!session.updateUser(user) || !shell) return;
      shell.setUser(user.name, user.email);
      shell.setRole(user.role);
      const route = router.current();
      if (user.role !== before && isAdminRoute(route.name)) render(route, false);
    },
    () => undefined, // a 401 already ended the session; anything else: keep what the session says
  );
}

// Another tab signed in or out: follow it.
window.addEventListener('storage', (e) => {
  if (e.key !== SESSION_KEY && e.key !== null) return;
  const route = router.current();
  const signedIn = session.current() !== null;
  if (!signedIn && !isPublicRoute(route.name)) endSession(null);
  else if (signedIn && route.name === 'login') router.navigate(safeNext(route.query.get('next')), { replace: true });
});

// A session that expired while the app was closed: say so on the login screen.
if (session.check().expired) flash = EXPIRED_MESSAGE;
scheduleExpiry();
router.start();
