// Authentication of Redfish and console requests: HTTP Basic, or a session token (X-Auth-Token header,
// or ?token= for browsers' WebSockets) issued by POST SessionService/Sessions. Sessions belong to the BMC
// that issued them and expire after SessionTimeout of inactivity.

import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Bmc } from "./model";

export const SESSION_TIMEOUT_S = 1800;
export const MAX_SESSIONS_PER_BMC = 64;

export interface Session {
  id: string;
  token: string;
  bmc: Bmc;
  user: string;
  created: string;
  lastUsed: number;
}

export type AuthResult = { ok: true; user: string; session?: Session } | { ok: false; reason: "missing" | "invalid" };

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

export class SessionStore {
  private byToken = new Map<string, Session>();
  private byBmc = new Map<Bmc, Map<string, Session>>();

  /** `credentialsOf`: the account a BMC accepts (a DPU's BMC may have its own, as on real hardware). */
  constructor(private credentialsOf: (bmc: Bmc) => { username: string; password: string }) {}

  checkCredentials(bmc: Bmc, user: unknown, pass: unknown): boolean {
    const own = this.credentialsOf(bmc);
    return typeof user === "string" && typeof pass === "string" && safeEqual(user, own.username) && safeEqual(pass, own.password);
  }

  /** null when this BMC already has MAX_SESSIONS_PER_BMC live sessions */
  create(bmc: Bmc, user: string): Session | null {
    const mine = this.list(bmc);
    if (mine.length >= MAX_SESSIONS_PER_BMC) return null;
    const token = randomBytes(24).toString("base64url");
    const s: Session = { id: randomBytes(6).toString("hex"), token, bmc, user, created: new Date().toISOString(), lastUsed: Date.now() };
    this.byToken.set(token, s);
    let m = this.byBmc.get(bmc);
    if (!m) {
      m = new Map();
      this.byBmc.set(bmc, m);
    }
    m.set(s.id, s);
    return s;
  }

  /** Live sessions of a BMC (expired ones are removed on the way). */
  list(bmc: Bmc): Session[] {
    const m = this.byBmc.get(bmc);
    if (!m) return [];
    const out: Session[] = [];
    for (const s of m.values()) if (this.alive(s)) out.push(s);
    return out;
  }

  get(bmc: Bmc, id: string): Session | undefined {
    const s = this.byBmc.get(bmc)?.get(id);
    return s && this.alive(s) ? s : undefined;
  }

  delete(s: Session): void {
    this.byToken.delete(s.token);
    const m = this.byBmc.get(s.bmc);
    m?.delete(s.id);
    if (m && m.size === 0) this.byBmc.delete(s.bmc);
  }

  private alive(s: Session): boolean {
    if (Date.now() - s.lastUsed > SESSION_TIMEOUT_S * 1000) {
      this.delete(s);
      return false;
    }
    return true;
  }

  byTokenFor(bmc: Bmc, token: string): Session | undefined {
    const s = this.byToken.get(token);
    if (!s || s.bmc !== bmc || !this.alive(s)) return undefined;
    s.lastUsed = Date.now();
    return s;
  }

  /** Authenticate a request to `bmc`. `queryToken` is accepted for console WebSockets only. */
  authenticate(bmc: Bmc, req: IncomingMessage, queryToken?: string | null): AuthResult {
    const tok = req.headers["x-auth-token"];
    if (typeof tok === "string" && tok !== "") {
      const s = this.byTokenFor(bmc, tok);
      return s ? { ok: true, user: s.user, session: s } : { ok: false, reason: "invalid" };
    }
    const auth = req.headers.authorization;
    if (typeof auth === "string" && /^basic /i.test(auth)) {
      const decoded = Buffer.from(auth.slice(6).trim(), "base64").toString("utf8");
      const i = decoded.indexOf(":");
      if (i < 0) return { ok: false, reason: "invalid" };
      const user = decoded.slice(0, i);
      return this.checkCredentials(bmc, user, decoded.slice(i + 1)) ? { ok: true, user } : { ok: false, reason: "invalid" };
    }
    if (queryToken) {
      const s = this.byTokenFor(bmc, queryToken);
      return s ? { ok: true, user: s.user, session: s } : { ok: false, reason: "invalid" };
    }
    return { ok: false, reason: "missing" };
  }
}
