// Unit test of the unframed JSON stream splitting SPDK's JSON-RPC needs.
import { describe, expect, it } from "vitest";
import { JsonStreamSplitter } from "./spdk-rpc";

describe("JsonStreamSplitter", () => {
  it("splits concatenated values across arbitrary chunk boundaries, braces inside strings included", () => {
    const values = [
      { id: 1, result: ["Nvme0n1"] },
      { id: 2, error: { code: -19, message: 'no "}" device {' } },
      { id: 3, result: true },
    ];
    const text = values.map((v) => JSON.stringify(v)).join("\n");
    for (const size of [1, 3, 7, text.length]) {
      const s = new JsonStreamSplitter();
      const out: unknown[] = [];
      for (let i = 0; i < text.length; i += size) out.push(...s.push(text.slice(i, i + size)));
      expect(out).toEqual(values);
    }
  });
});
