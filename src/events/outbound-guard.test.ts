import { describe, expect, it } from "vitest";
import { checkWebhookUrl, isPublicAddress } from "./outbound-guard.js";

describe("isPublicAddress", () => {
  it("refuses loopback, private, link-local and other special ranges", () => {
    for (const address of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "::1",
      "fe80::1",
      "fc00::1",
      "::ffff:127.0.0.1",
      "224.0.0.1",
      "not an address",
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });

  it("accepts public unicast addresses", () => {
    for (const address of ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"]) {
      expect(isPublicAddress(address), address).toBe(true);
    }
  });
});

describe("checkWebhookUrl", () => {
  const strict = { allowPrivate: false, requireHttps: true };
  it("accepts a public https URL", () => {
    expect(checkWebhookUrl("https://hooks.example.com/otp?x=1", strict)).toEqual({
      url: "https://hooks.example.com/otp?x=1",
    });
  });

  it("refuses other schemes, credentials, private literals and localhost", () => {
    for (const url of [
      "http://hooks.example.com/",
      "ftp://hooks.example.com/",
      "https://user:pw@hooks.example.com/",
      "https://127.0.0.1/",
      "https://[::1]/",
      "https://10.0.0.1/",
      "https://localhost/",
      "not a url",
      `https://example.com/${"x".repeat(2001)}`,
    ]) {
      expect("refused" in checkWebhookUrl(url, strict), url).toBe(true);
    }
  });

  it("allows http and private addresses when the configuration does", () => {
    expect(
      checkWebhookUrl("http://127.0.0.1:8080/h", { allowPrivate: true, requireHttps: false }),
    ).toEqual({
      url: "http://127.0.0.1:8080/h",
    });
  });
});
