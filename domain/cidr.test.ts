// Tables for the address math behind VPCs, subnets, gateways, reserved ranges and the rule compiler's merging.
import { describe, expect, it } from "vitest";
import {
  checkGateway,
  checkReservedRanges,
  checkSubnetCidr,
  checkVpcCidr,
  checkVpcIpv6Cidr,
  cidrToString,
  defaultGateway,
  intervalToCidrs,
  mergeIntervals,
  parseAddress,
  parseCidr,
  subtractIntervals,
  usableInterval,
} from "./cidr";

const c = (s: string) => {
  const p = parseCidr(s);
  if (!p.ok) throw new Error(p.reason);
  return p.cidr;
};

describe("parseCidr", () => {
  it.each([
    ["10.0.0.0/16", true, ""],
    ["fd00::/48", true, ""],
    ["10.0.0.1/16", false, "host bits set; the network is 10.0.0.0/16"],
    ["10.0.0.0", false, "not a CIDR"],
    ["10.0.0.0/33", false, "longer than an IPv4 address"],
    ["300.0.0.0/8", false, "not an IP address"],
    ["10/8", false, "not an IP address"],
    ["banana/8", false, "not an IP address"],
  ])("%s → ok=%s", (text, ok, reason) => {
    const p = parseCidr(text);
    expect(p.ok).toBe(ok);
    if (!p.ok) expect(p.reason).toContain(reason);
  });
});

describe("VPC ranges", () => {
  it.each([
    ["10.0.0.0/16", {}, null],
    ["172.16.0.0/12", {}, "between /16 and /28"],
    ["172.20.0.0/16", {}, null],
    ["192.168.10.0/24", {}, null],
    ["8.8.8.0/24", {}, "not a private range"],
    ["8.8.8.0/24", { allowPublic: true }, null],
    ["127.0.0.0/16", { allowPublic: true }, "loopback"],
    ["169.254.0.0/16", { allowPublic: true }, "link-local"],
    ["224.1.0.0/16", { allowPublic: true }, "multicast"],
    ["10.0.0.0/29", {}, "between /16 and /28"],
    ["fd00::/48", {}, "must be IPv4"],
  ] as const)("%s %j", (text, opts, reason) => {
    const r = checkVpcCidr(text, opts);
    if (reason === null) expect(r).toMatchObject({ ok: true });
    else expect(r).toMatchObject({ ok: false, reason: expect.stringContaining(reason) });
  });

  it.each([
    ["fd12:3456:789a::/48", null],
    ["fd12:3456:789a:1::/64", null],
    ["2001:db8::/48", "not a unique local range"],
    ["fd00::/40", "between /48 and /64"],
    ["fd00::/96", "between /48 and /64"],
    ["10.0.0.0/16", "must be an IPv6"],
  ])("IPv6 %s", (text, reason) => {
    const r = checkVpcIpv6Cidr(text);
    if (reason === null) expect(r.ok).toBe(true);
    else expect(r).toMatchObject({ ok: false, reason: expect.stringContaining(reason) });
  });
});

describe("subnets, gateways, reserved ranges", () => {
  it.each([
    ["10.0.1.0/24", "10.0.0.0/16", null],
    ["10.1.0.0/24", "10.0.0.0/16", "not inside the VPC"],
    ["10.0.0.0/15", "10.0.0.0/16", "between /16 and /29"],
    ["10.0.0.0/30", "10.0.0.0/16", "between /16 and /29"],
    ["10.0.1.5/24", "10.0.0.0/16", "host bits"],
  ])("subnet %s in %s", (text, vpc, reason) => {
    const r = checkSubnetCidr(text, vpc);
    if (reason === null) expect(r.ok).toBe(true);
    else expect(r).toMatchObject({ ok: false, reason: expect.stringContaining(reason) });
  });

  it("the default gateway is the first usable address; network/broadcast are not usable", () => {
    expect(defaultGateway(c("10.0.1.0/24"))).toBe("10.0.1.1");
    const u = usableInterval(c("10.0.1.0/24"));
    expect(u.hi - u.lo + 1n).toBe(254n);
  });

  it.each([
    ["10.0.1.1", null],
    ["10.0.1.254", null],
    ["10.0.1.0", "network address"],
    ["10.0.1.255", "broadcast address"],
    ["10.0.2.1", "not inside the subnet"],
    ["fd00::1", "not inside the subnet"],
    ["nope", "not an IP address"],
  ])("gateway %s", (gw, reason) => {
    const r = checkGateway(gw, c("10.0.1.0/24"));
    if (reason === null) expect(r.ok).toBe(true);
    else expect(r).toMatchObject({ ok: false, reason: expect.stringContaining(reason) });
  });

  it("reserved ranges must lie in the usable addresses and be in order; overlapping ones merge", () => {
    const s = c("10.0.1.0/24");
    expect(
      checkReservedRanges(
        [
          { start: "10.0.1.10", end: "10.0.1.20" },
          { start: "10.0.1.15", end: "10.0.1.30" },
        ],
        s,
      ),
    ).toEqual({
      ok: true,
      value: [{ lo: parseAddress("10.0.1.10")!.value, hi: parseAddress("10.0.1.30")!.value }],
    });
    expect(checkReservedRanges([{ start: "10.0.1.10", end: "10.0.2.5" }], s)).toMatchObject({
      ok: false,
      index: 0,
      reason: expect.stringContaining("10.0.2.5 is not a usable address"),
    });
    expect(
      checkReservedRanges(
        [
          { start: "10.0.1.9", end: "10.0.1.9" },
          { start: "10.0.1.20", end: "10.0.1.10" },
        ],
        s,
      ),
    ).toMatchObject({ ok: false, index: 1, reason: expect.stringContaining("ends before it starts") });
    expect(checkReservedRanges([{ start: "10.0.1.0", end: "10.0.1.3" }], s)).toMatchObject({ ok: false });
  });
});

describe("interval math", () => {
  const iv = (a: string, b: string) => ({ lo: parseAddress(a)!.value, hi: parseAddress(b)!.value });
  it("range → minimal CIDR cover", () => {
    expect(intervalToCidrs(iv("10.0.0.0", "10.0.0.255"), 4).map(cidrToString)).toEqual(["10.0.0.0/24"]);
    expect(intervalToCidrs(iv("10.0.0.1", "10.0.0.6"), 4).map(cidrToString)).toEqual(["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"]);
    expect(intervalToCidrs(iv("0.0.0.0", "255.255.255.255"), 4).map(cidrToString)).toEqual(["0.0.0.0/0"]);
    expect(intervalToCidrs(iv("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 6).map(cidrToString)).toEqual(["::/0"]);
  });
  it("merge and subtract", () => {
    expect(mergeIntervals([iv("10.0.0.5", "10.0.0.9"), iv("10.0.0.0", "10.0.0.4"), iv("10.0.0.20", "10.0.0.30")])).toEqual([
      iv("10.0.0.0", "10.0.0.9"),
      iv("10.0.0.20", "10.0.0.30"),
    ]);
    expect(subtractIntervals([iv("0.0.0.0", "255.255.255.255")], [iv("10.0.0.0", "10.255.255.255")])).toEqual([
      iv("0.0.0.0", "9.255.255.255"),
      iv("11.0.0.0", "255.255.255.255"),
    ]);
    expect(subtractIntervals([iv("10.0.0.0", "10.0.0.9")], [iv("10.0.0.0", "10.0.0.9")])).toEqual([]);
  });
});
