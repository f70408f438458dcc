/**
 * The result of a form, carried to the page the form redirects to (post/redirect/get) in a short-lived
 * cookie, read once. A cookie the browser sends back is untrusted input: it is parsed defensively and
 * only the test ids listed here may come out of it.
 */

import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";

const FLASH_COOKIE = "__Host-cohort_flash";
const MAX_MESSAGE = 1500;
const TEST_IDS = new Set(["flash", "reset-done", "delete-done", "redrive-done"]);

export interface Flash {
  ok: boolean;
  message: string;
  testid?: string;
}

export function setFlash(c: Context, flash: Flash): void {
  const value = JSON.stringify({ ...flash, message: flash.message.slice(0, MAX_MESSAGE) });
  setCookie(c, FLASH_COOKIE, value, {
    httpOnly: true,
    secure: true,
    sameSite: "Strict",
    path: "/",
    maxAge: 60,
  });
}

/** The flash left for this page, if any; it is cleared as it is read. */
export function takeFlash(c: Context): Flash | null {
  const raw = getCookie(c, FLASH_COOKIE);
  if (raw === undefined) return null;
  deleteCookie(c, FLASH_COOKIE, { path: "/", secure: true });
  try {
    const parsed = JSON.parse(raw) as Record<string, unknown>;
    if (typeof parsed.message !== "string") return null;
    const testid = typeof parsed.testid === "string" && TEST_IDS.has(parsed.testid) ? parsed.testid : "flash";
    return { ok: parsed.ok === true, message: parsed.message.slice(0, MAX_MESSAGE), testid };
  } catch {
    return null;
  }
}
