// Invitation rules in one place: how long an invitation to a tenant lasts, what state it is really in (a pending one
// past its expiry is expired), and whether its invitee may still answer it — with the reason when not. Pure: the
// invitations router enforces these and the invitee's panel shows the same reasons.
import type { Verdict } from "./roles";

export const INVITATION_TTL_DAYS = 7;
const DAY_MS = 86_400_000;

export type InvitationStatus = "pending" | "accepted" | "declined" | "revoked" | "expired";

export function invitationExpiry(from: Date = new Date()): Date {
  return new Date(from.getTime() + INVITATION_TTL_DAYS * DAY_MS);
}

/** The status as a person should see it: a pending invitation whose time is up is expired. */
export function effectiveStatus(inv: { status: InvitationStatus; expiresAt: Date }, now: Date = new Date()): InvitationStatus {
  return inv.status === "pending" && inv.expiresAt.getTime() <= now.getTime() ? "expired" : inv.status;
}

/** Whether the invitee may still accept or decline it; the reason says what to do instead. */
export function canAnswer(inv: { status: InvitationStatus; expiresAt: Date; tenantName: string }, now: Date = new Date()): Verdict {
  switch (effectiveStatus(inv, now)) {
    case "pending":
      return { ok: true };
    case "expired":
      return {
        ok: false,
        reason: `This invitation to ${inv.tenantName} expired on ${inv.expiresAt.toISOString().slice(0, 10)}; ask one of its tenant admins to invite you again.`,
      };
    case "revoked":
      return { ok: false, reason: `This invitation to ${inv.tenantName} was withdrawn by its tenant admins; ask one of them to invite you again.` };
    case "accepted":
      return { ok: false, reason: `You have already accepted this invitation to ${inv.tenantName}.` };
    case "declined":
      return { ok: false, reason: `You declined this invitation to ${inv.tenantName}; ask one of its tenant admins to invite you again.` };
  }
}
