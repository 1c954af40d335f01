// Walks the instance transition table: every declared edge leads where the lifecycle says, every undeclared one is
// refused, transient states aim at stable ones and only workflows leave them, and the rules the UI and routers ask
// (instanceCan) agree with the table.
import { describe, expect, it } from "vitest";
import { instanceState } from "@/db/schema";
import {
  IllegalInstanceTransition,
  INSTANCE_EVENTS,
  INSTANCE_STATES,
  INSTANCE_TRANSITIONS,
  type InstanceEvent,
  instanceEventsFrom,
  instanceTransition,
  isTransient,
  nextInstanceState,
  STABLE_STATES,
  TRANSIENT_AIMS,
} from "./instance-lifecycle";
import { ACTION_EVENTS, allowedActions, instanceCan, TRANSITIONAL } from "./instance-rules";

// The lifecycle written out edge by edge, independently of the table's shape: a change to the table must change this.
const EDGES = `
  failed    --retry_create-->     creating
  creating  --created-->          running
  creating  --create_failed-->    failed
  stopped   --start-->            starting
  starting  --started-->          running
  starting  --start_failed-->     stopped
  running   --stop-->             stopping
  stopping  --stopped-->          stopped
  stopping  --stop_failed-->      running
  running   --reboot-->           rebooting
  rebooting --rebooted-->         running
  rebooting --reboot_failed-->    running
  running   --rebuild-->          rebuilding
  stopped   --rebuild-->          rebuilding
  rebuilding --rebuilt-->         running
  rebuilding --rebuild_reverted--> running
  rebuilding --rebuild_failed-->  failed
  running   --recover-->          recovering
  stopped   --recover-->          recovering
  failed    --recover-->          recovering
  recovering --recovered-->       running
  recovering --recover_failed-->  failed
  running   --rescue-->           rescuing
  rescuing  --rescued-->          rescue
  rescuing  --rescue_reverted-->  running
  rescuing  --rescue_failed-->    failed
  rescue    --unrescue-->         unrescuing
  unrescuing --unrescued-->       running
  unrescuing --unrescue_failed--> rescue
  running   --delete-->           deleting
  rescue    --delete-->           deleting
  stopped   --delete-->           deleting
  failed    --delete-->           deleting
  deleting  --deleted-->          deleted
  deleting  --delete_failed-->    failed
  running   --observed_off-->     stopped
  stopped   --observed_on-->      running
`
  .trim()
  .split("\n")
  .map((l) => {
    const m = /^\s*(\w+)\s+--(\w+)-->\s+(\w+)$/.exec(l);
    if (!m) throw new Error(`bad edge line: ${l}`);
    return { from: m[1]!, event: m[2]! as InstanceEvent, to: m[3]! };
  });

describe("instance lifecycle", () => {
  it("declares exactly the database's states", () => {
    expect([...INSTANCE_STATES].sort()).toEqual([...instanceState.enumValues].sort());
  });

  it("every declared edge leads where the lifecycle says", () => {
    for (const e of EDGES) expect(instanceTransition(e.from, e.event), `${e.from} --${e.event}-->`).toBe(e.to);
    // ... and the table declares no edge beyond these.
    const declared = INSTANCE_EVENTS.flatMap((event) =>
      INSTANCE_TRANSITIONS[event].from.map((from) => `${from} --${event}--> ${INSTANCE_TRANSITIONS[event].to}`),
    );
    expect(declared.sort()).toEqual(EDGES.map((e) => `${e.from} --${e.event}--> ${e.to}`).sort());
  });

  it("refuses every undeclared (state, event) pair", () => {
    let refused = 0;
    for (const from of INSTANCE_STATES)
      for (const event of INSTANCE_EVENTS) {
        if (EDGES.some((e) => e.from === from && e.event === event)) continue;
        expect(nextInstanceState(from, event), `${from} --${event}-->`).toBeNull();
        expect(() => instanceTransition(from, event)).toThrow(IllegalInstanceTransition);
        refused++;
      }
    expect(refused).toBe(INSTANCE_STATES.length * INSTANCE_EVENTS.length - EDGES.length);
  });

  it("transient states aim at stable ones; people start them, only workflows leave them, each has a way to its aim", () => {
    for (const [state, aim] of Object.entries(TRANSIENT_AIMS)) {
      expect(isTransient(aim), `${state} aims at ${aim}`).toBe(false);
      const out = instanceEventsFrom(state);
      expect(out.length, `${state} has a way out`).toBeGreaterThan(0);
      for (const e of out) {
        expect(INSTANCE_TRANSITIONS[e].by, `${state} --${e}--> is a workflow's`).toBe("workflow");
        expect(isTransient(INSTANCE_TRANSITIONS[e].to), `${state} --${e}--> lands on a stable state`).toBe(false);
      }
      expect(
        out.some((e) => INSTANCE_TRANSITIONS[e].to === aim),
        `${state} can reach ${aim}`,
      ).toBe(true);
      expect(
        INSTANCE_EVENTS.some((e) => INSTANCE_TRANSITIONS[e].to === state),
        `something enters ${state}`,
      ).toBe(true);
    }
    for (const e of INSTANCE_EVENTS)
      if (INSTANCE_TRANSITIONS[e].by === "workflow") expect(INSTANCE_TRANSITIONS[e].from.every(isTransient), `${e} leaves a transient state`).toBe(true);
      else
        expect(
          INSTANCE_TRANSITIONS[e].from.every((s) => !isTransient(s)),
          `${e} starts from a stable state`,
        ).toBe(true);
    expect(instanceEventsFrom("deleted")).toEqual([]);
    expect(STABLE_STATES.sort()).toEqual(["deleted", "failed", "rescue", "running", "stopped"]);
  });

  it("busy (TRANSITIONAL) is the table's transient states", () => {
    expect([...TRANSITIONAL].sort()).toEqual(Object.keys(TRANSIENT_AIMS).sort());
  });

  it("instanceCan allows a state-changing action exactly where the table takes its event", () => {
    for (const [action, event] of Object.entries(ACTION_EVENTS) as [keyof typeof ACTION_EVENTS, InstanceEvent][])
      for (const s of INSTANCE_STATES) expect(instanceCan[action](s).ok, `${action} while ${s}`).toBe(nextInstanceState(s, event) !== null);
    // Actions that leave the state as it is are allowed only in stable, living states.
    for (const s of INSTANCE_STATES) {
      const a = allowedActions(s);
      expect(a.backup.ok && a.attach.ok).toBe(s === "running" || s === "stopped");
    }
    expect(instanceCan.start("running")).toEqual({ ok: false, reason: "It is already running." });
    expect(instanceCan.stop("creating")).toEqual({ ok: false, reason: "The instance is creating; wait until that finishes." });
    expect(instanceCan.delete("deleted")).toEqual({ ok: false, reason: "The instance has been deleted." });
    expect(instanceCan.rescue("rescue")).toEqual({ ok: false, reason: "It is already in rescue." });
    expect(instanceCan.unrescue("running")).toEqual({ ok: false, reason: "It is not in rescue." });
  });
});
