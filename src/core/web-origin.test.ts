import { describe, expect, it } from "vitest";
import { webOrigin } from "./web-origin.js";

describe("webOrigin", () => {
  it("accepts origins as browsers send them", () => {
    for (const ok of [
      "https://shop.example.com",
      "http://localhost:3000",
      "https://shop.example.com:8443",
      "http://127.0.0.1:8080",
      "http://[::1]:8080",
    ]) {
      expect(webOrigin(ok)).toBe(ok);
    }
  });

  it("refuses anything a browser would never send as an Origin", () => {
    for (const bad of [
      "",
      "shop.example.com",
      "https://shop.example.com/",
      "https://shop.example.com/path",
      "https://shop.example.com?x=1",
      "https://shop.example.com#x",
      "https://user:pass@shop.example.com",
      "https://Shop.Example.com",
      "https://shop.example.com:443",
      "javascript:alert(1)",
      "ftp://shop.example.com",
      "https://shop.example.com\0",
      "https://shop.example.com\r\nX: 1",
      " https://shop.example.com",
      `https://${"a".repeat(300)}.com`,
    ]) {
      expect(webOrigin(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });
});
