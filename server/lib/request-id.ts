// The request id recorded in audit rows and logs. A client may send its own (X-Request-Id) to correlate its
// calls with our records, but it is data from outside: only a short id of safe characters is taken as is;
// anything else (control characters, markup, 900 KB) is replaced by a generated one.
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

export function requestIdFrom(headers: Headers): string {
  const asked = headers.get("x-request-id");
  return asked && REQUEST_ID_PATTERN.test(asked) ? asked : crypto.randomUUID();
}
