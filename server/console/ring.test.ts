// Scrollback ring: keeps exactly the last N bytes across wrap-around and oversized writes; replay trimming.
import { describe, expect, it } from "vitest";
import { ByteRing, trimReplayStart } from "./ring";

describe("ByteRing", () => {
  it("holds what was written until full, then the newest capacity bytes in order", () => {
    const r = new ByteRing(8);
    r.write(Buffer.from("abc"));
    expect(r.snapshot().toString()).toBe("abc");
    r.write(Buffer.from("defgh"));
    expect(r.snapshot().toString()).toBe("abcdefgh");
    r.write(Buffer.from("ij"));
    expect(r.snapshot().toString()).toBe("cdefghij");
    r.write(Buffer.from("klmnopq"));
    expect(r.snapshot().toString()).toBe("jklmnopq");
    expect(r.length).toBe(8);
    expect(r.total).toBe(17);
  });

  it("keeps only the tail of a write larger than the ring", () => {
    const r = new ByteRing(4);
    r.write(Buffer.from("x"));
    r.write(Buffer.from("0123456789"));
    expect(r.snapshot().toString()).toBe("6789");
    r.write(Buffer.from("ab"));
    expect(r.snapshot().toString()).toBe("89ab");
  });

  it("matches a naive model over many random writes", () => {
    const r = new ByteRing(1000);
    let model = Buffer.alloc(0);
    for (let i = 0; i < 500; i++) {
      const chunk = Buffer.alloc(Math.floor(Math.random() * 300), i % 251);
      r.write(chunk);
      model = Buffer.concat([model, chunk]).subarray(-1000);
    }
    expect(r.snapshot().equals(model)).toBe(true);
  });

  it("refuses a nonsense capacity", () => {
    expect(() => new ByteRing(0)).toThrow(/positive/);
  });
});

describe("trimReplayStart", () => {
  it("starts a wrapped replay at the next line when one is near", () => {
    expect(trimReplayStart(Buffer.from("[3mtail of line\nnext line\n")).toString()).toBe("next line\n");
  });
  it("skips UTF-8 continuation bytes when there is no line start", () => {
    const b = Buffer.from("é€x", "utf8").subarray(1); // starts inside "é"
    expect(trimReplayStart(b).toString("utf8")).toBe("€x");
  });
});
