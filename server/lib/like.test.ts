// The list filters' LIKE pattern: a term matches anywhere and its own %, _ and \ match literally.
import { describe, expect, it } from "vitest";
import { containing } from "./like";

describe("containing", () => {
  it("wraps a term in % and escapes LIKE's own characters", () => {
    expect(containing("web")).toBe("%web%");
    expect(containing("50%_off\\x")).toBe("%50\\%\\_off\\\\x%");
  });
  it("is no filter without a term", () => {
    expect(containing(undefined)).toBeUndefined();
    expect(containing("")).toBeUndefined();
    expect(containing(null)).toBeUndefined();
  });
});
