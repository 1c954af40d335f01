// The client address through trusted proxies: X-Forwarded-For read right to left, trusted hops skipped, nothing
// believed from a peer that is not a trusted proxy; X-Forwarded-Proto likewise.
import { describe, expect, it } from "vitest";
import { clientAddress, forwardedTls, normalizeIp, parseTrustedProxies } from "./client-ip";

const none = parseTrustedProxies("");
const lb = parseTrustedProxies("10.0.0.0/8, 192.168.1.5 fd00::/8");

describe("client address", () => {
  it("is the socket's peer when no proxy is trusted, whatever X-Forwarded-For says", () => {
    expect(clientAddress("203.0.113.9", "1.2.3.4", none)).toBe("203.0.113.9");
    expect(clientAddress("::ffff:203.0.113.9", undefined, none)).toBe("203.0.113.9");
    // A peer outside the list is the client even when a list is configured.
    expect(clientAddress("203.0.113.9", "1.2.3.4", lb)).toBe("203.0.113.9");
  });

  it("behind trusted proxies is the first untrusted hop from the right; what the client wrote on the left is ignored", () => {
    expect(clientAddress("10.0.0.2", "6.6.6.6, 198.51.100.7", lb)).toBe("198.51.100.7");
    expect(clientAddress("::ffff:10.0.0.2", "198.51.100.7, 192.168.1.5, 10.9.9.9", lb)).toBe("198.51.100.7");
    expect(clientAddress("fd00::1", ["6.6.6.6", "2001:db8::7"], lb)).toBe("2001:db8::7");
    expect(clientAddress("10.0.0.2", "198.51.100.7:51234", lb)).toBe("198.51.100.7");
    // Every hop trusted: the leftmost one is as far as we can see.
    expect(clientAddress("10.0.0.2", "10.1.1.1", lb)).toBe("10.1.1.1");
    // No header: the proxy itself.
    expect(clientAddress("10.0.0.2", undefined, lb)).toBe("10.0.0.2");
    // Junk passed on by a trusted hop: stop at the last address we could vouch for.
    expect(clientAddress("10.0.0.2", "198.51.100.7, not-an-ip", lb)).toBe("10.0.0.2");
  });

  it("refuses a malformed list with its reason", () => {
    expect(() => parseTrustedProxies("10.0.0.0/8, proxy.example")).toThrow(/"proxy\.example" is not an IP address or CIDR range/);
    expect(normalizeIp("[2001:db8::1]:443")).toBe("2001:db8::1");
    expect(normalizeIp("<script>")).toBeNull();
  });

  it("believes X-Forwarded-Proto only from a trusted proxy", () => {
    expect(forwardedTls("10.0.0.2", "https", lb)).toBe(true);
    expect(forwardedTls("10.0.0.2", "https, http", lb)).toBe(true);
    expect(forwardedTls("10.0.0.2", "http", lb)).toBe(false);
    expect(forwardedTls("203.0.113.9", "https", lb)).toBe(false);
    expect(forwardedTls("10.0.0.2", "https", none)).toBe(false);
  });
});
