// What every screen gets (the app context) and gives back (its element and a cleanup).

import type { ApiClient } from '../api';
import type { Route, Router } from '../router';
import type { SessionStore } from '../session';
import type { LiveStream } from '../stream';
import type { LoginResult } from '../types';

export interface AppContext {
  api: ApiClient;
  router: Router;
  stream: LiveStream;
  session: SessionStore;
  /** Called by the login screen with the API's answer; goes on to `next`. */
  signedIn(login: LoginResult, next: string): void;
  /** A fresh token for this session (after a password change): kept, and the expiry timer follows it. */
  sessionRenewed(login: LoginResult): void;
  /** A one-shot message for the next screen (e.g. "Conta criada"). */
  setFlash(message: string): void;
  takeFlash(): string | null;
}

export interface Screen {
  /** The document title, before " · Portaria". */
  title: string;
  el: HTMLElement;
  /** What gets the focus when the screen opens (default: its h1, after a navigation). */
  focus?: HTMLElement;
  dispose?: () => void;
}

export type ScreenFactory = (ctx: AppContext, route: Route) => Screen;

/** Collects cleanups and tells async work whether the screen is still shown. */
export class Lifecycle {
  private readonly cleanups: (() => void)[] = [];
  alive = true;

  add(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  dispose = (): void => {
    this.alive = false;
    for (const c of this.cleanups.splice(0)) c();
  };
}
