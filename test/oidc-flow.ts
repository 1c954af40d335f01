// Test helper: one real OpenID Connect sign-in, as a browser would do it — Anvil's "Sign in with …" (better-auth's
// sign-in/social), the provider's authorization endpoint, its login form (submitted like a person), the redirect
// back to Anvil's callback — over HTTP with fetch, each side's cookies kept in its own jar. Returns where Anvil
// sends the browser at the end and the cookies it set (the session cookie on success).

export class CookieJar {
  private readonly jar = new Map<string, string>();
  take(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === "";
      if (expired) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }
  header(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  has(name: RegExp): boolean {
    return [...this.jar.keys()].some((k) => name.test(k));
  }
}

export interface SsoFlowOptions {
  /** Anvil's auth route handler (getAuth().handler) and the origin it is reached at */
  handler: (req: Request) => Promise<Response>;
  origin: string;
  /** the name typed into the provider's login form */
  login: string;
  /** extra headers for Anvil (the client-address header) */
  headers?: Record<string, string>;
  callbackURL?: string;
}

export interface SsoFlowResult {
  /** Anvil's final redirect (the callbackURL, or /login?error=… when refused) */
  location: string;
  anvil: CookieJar;
}

function formOf(html: string, base: string): { action: string; fields: URLSearchParams } | null {
  const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return null;
  const fields = new URLSearchParams();
  for (const m of form[2]!.matchAll(/<input[^>]*>/gi)) {
    const name = /name="([^"]+)"/.exec(m[0])?.[1];
    const value = /value="([^"]*)"/.exec(m[0])?.[1] ?? "";
    if (name) fields.set(name, value);
  }
  return { action: new URL(form[1]!.replaceAll("&amp;", "&"), base).toString(), fields };
}

export async function ssoSignIn(o: SsoFlowOptions): Promise<SsoFlowResult> {
  const anvil = new CookieJar();
  const start = await o.handler(
    new Request(`${o.origin}/api/auth/sign-in/social`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: o.origin, ...o.headers },
      body: JSON.stringify({ provider: "oidc", callbackURL: o.callbackURL ?? "/", errorCallbackURL: "/login" }),
    }),
  );
  if (start.status !== 200) throw new Error(`sign-in/social answered ${start.status}: ${await start.text()}`);
  anvil.take(start);
  const { url } = (await start.json()) as { url: string };

  const idp = new CookieJar();
  let next: { url: string; method: "GET" | "POST"; body?: URLSearchParams } = { url, method: "GET" };
  let callback: URL | null = null;
  for (let hop = 0; hop < 20 && !callback; hop++) {
    const res = await fetch(next.url, {
      method: next.method,
      redirect: "manual",
      headers: { cookie: idp.header(), ...(next.body ? { "content-type": "application/x-www-form-urlencoded" } : {}) },
      body: next.body,
    });
    idp.take(res);
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      const to = new URL(location, next.url);
      if (to.origin === new URL(o.origin).origin) callback = to;
      else next = { url: to.toString(), method: "GET" };
      continue;
    }
    const html = await res.text();
    const form = res.status === 200 ? formOf(html, next.url) : null;
    if (!form) throw new Error(`the provider answered ${res.status} at ${next.url}: ${html.slice(0, 500)}`);
    if (form.fields.has("login")) {
      form.fields.set("login", o.login);
      form.fields.set("password", "any password (the lab provider does not check it)");
    }
    next = { url: form.action, method: "POST", body: form.fields };
  }
  if (!callback) throw new Error("the provider never redirected back to Anvil");

  const done = await o.handler(new Request(callback.toString(), { headers: { cookie: anvil.header(), ...o.headers } }));
  anvil.take(done);
  const location = done.headers.get("location");
  if (!location) throw new Error(`Anvil's callback answered ${done.status} without a redirect: ${await done.text()}`);
  return { location, anvil };
}
