import { badRequest } from "../../lib/errors";

export const EMAIL_MAX = 254;

/** One address, one account: trimmed and lower-cased. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

/**
 * The normalized address, or a 400: one `@` with something on both sides, a dot in the domain, no spaces or
 * control characters, at most 254 characters. No mail is sent, so nothing stricter is claimed.
 */
export function checkEmail(email: string, field = "email"): string {
  const normalized = normalizeEmail(email);
  if (normalized.length > EMAIL_MAX) throw badRequest(`${field}: an email address has at most ${EMAIL_MAX} characters`);
  if (!/^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u.test(normalized)) {
    throw badRequest(`${field}: not an email address`);
  }
  return normalized;
}
