// Entry point: wires the session, the API client, the live stream and the router to the screens.

import { ApiClient } from './api';
import { mount } from './dom';
import { isPublicRoute, Router, type Route, type RouteName } from './router';
import { catalogScreen } from './screens/catalog';
import { customerScreen } from './screens/customer';
import { customersScreen } from './screens/customers';
import { dashboardScreen } from './screens/dashboard';
import { eventsScreen } from './screens/events';
import { loginScreen } from './screens/login';
import { notFoundScreen } from './screens/not-found';
import type { AppContext, Screen, ScreenFactory } from './screens/screen';
import { signupScreen } from './screens/signup';
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
  onUnauthorized: () => endSession(EXPIRED_MESSAGE),
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
    shell = null;
    stream.stop();
    const frame = publicShell();
    mount(root, frame.root);
    main = frame.main;
  } else {
    if (!shell) {
      shell = appShell(() => endSession('Você saiu da Portaria.', false));
      mount(root, shell.root);
    }
    if (current) shell.setUser(current.user.name, current.user.email);
    shell.setActive(route.name);
    stream.start();
    main = shell.main;
  }

  screen = SCREENS[route.name](ctx, route);
  mount(main, screen.el);
  document.title = `${screen.title} · Portaria`;
  // A search box gets the focus on devices with a mouse; on phones it would pop the keyboard up.
  const fine = window.matchMedia?.('(pointer: fine)').matches ?? true;
  const target = (fine ? screen.focus : undefined) ?? (initial ? null : screen.el.querySelector<HTMLElement>('h1'));
  target?.focus();
  if (!initial) window.scrollTo(0, 0);
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
