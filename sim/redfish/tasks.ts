// TaskService and UpdateService.SimpleUpdate: a firmware update is an asynchronous Task the client follows
// through a task monitor (202 + Retry-After while running, the finished Task with 200 at the end), and
// on success the targeted FirmwareInventory item reports a new Version.

import type { Bmc, Engine } from "./model";
import { firmwareOf, SIM_REGISTRY } from "./model";

export type TaskState = "Running" | "Completed" | "Exception";

export interface SimTask {
  id: string;
  bmc: Bmc;
  name: string;
  startedAt: number;
  durationMs: number;
  endTime: string | null;
  state: TaskState;
  targets: string[];
  newVersions: Record<string, string>;
  messages: Array<{ MessageId: string; Message: string; Severity: string; MessageArgs: string[] }>;
  timer: NodeJS.Timeout | undefined;
}

/** Version found in an image file name ("bf-bundle-2.9.1-40_24.11.bfb" -> "2.9.1-40"), or null. */
export function versionFromImage(imageUri: string): string | null {
  const file = imageUri.split(/[/\\]/).pop() ?? "";
  const m = /\d+(?:\.\d+)+(?:-\d+)?/.exec(file);
  return m ? m[0] : null;
}

/** No version in the file name: bump the last number of the current version so the change is visible. */
export function bumpVersion(v: string): string {
  const m = /^(.*?)(\d+)(\D*)$/.exec(v);
  if (!m) return `${v}.1`;
  return `${m[1]}${Number(m[2]) + 1}${m[3]}`;
}

export class TaskManager {
  private tasks = new Map<string, SimTask>();
  private seq = 0;

  constructor(private engine: Engine) {}

  get(bmc: Bmc, id: string): SimTask | undefined {
    const t = this.tasks.get(id);
    return t && t.bmc === bmc ? t : undefined;
  }

  list(bmc: Bmc): SimTask[] {
    const out: SimTask[] = [];
    for (const t of this.tasks.values()) if (t.bmc === bmc) out.push(t);
    return out;
  }

  percent(t: SimTask): number {
    if (t.state !== "Running") return 100;
    return Math.min(99, Math.floor(((Date.now() - t.startedAt) / Math.max(1, t.durationMs)) * 100));
  }

  /** Start a SimpleUpdate of the given inventory ids. An image named *corrupt* fails verification. */
  startUpdate(bmc: Bmc, imageUri: string, targets: string[]): SimTask {
    const id = String(++this.seq);
    const fromName = versionFromImage(imageUri);
    const fw = firmwareOf(bmc);
    const newVersions: Record<string, string> = {};
    for (const t of targets) newVersions[t] = fromName ?? bumpVersion(fw[t]);
    const task: SimTask = {
      id,
      bmc,
      name: `SimpleUpdate ${targets.join(", ")} from ${imageUri}`,
      startedAt: Date.now(),
      durationMs: this.engine.config.updateMs,
      endTime: null,
      state: "Running",
      targets,
      newVersions,
      messages: [{ MessageId: "Update.1.0.UpdateInProgress", Message: "An update is in progress.", Severity: "OK", MessageArgs: [] }],
      timer: undefined,
    };
    this.tasks.set(id, task);
    // Keep the store bounded: forget the oldest finished tasks beyond 1,000.
    if (this.tasks.size > 1000) {
      for (const [k, t] of this.tasks) {
        if (t.state !== "Running") {
          this.tasks.delete(k);
          break;
        }
      }
    }
    const corrupt = /corrupt/i.test(imageUri);
    task.timer = this.engine.later(task.durationMs, () => {
      task.timer = undefined;
      task.endTime = new Date().toISOString();
      if (corrupt) {
        task.state = "Exception";
        task.messages.push({
          MessageId: "Update.1.0.VerificationFailed",
          Message: `Verification of image '${imageUri}' at '${targets.join(", ")}' failed.`,
          Severity: "Critical",
          MessageArgs: [imageUri, targets.join(", ")],
        });
        this.engine.addSel(bmc, {
          severity: "Warning",
          message: `Firmware update from ${imageUri} failed verification.`,
          messageId: `${SIM_REGISTRY}.FirmwareUpdateFailed`,
          sensorType: "Version Change",
        });
        return;
      }
      bmc.firmware = { ...firmwareOf(bmc), ...newVersions };
      task.state = "Completed";
      for (const t of targets)
        task.messages.push({
          MessageId: "Update.1.0.UpdateSuccessful",
          Message: `Device '${t}' successfully updated with image '${imageUri}'.`,
          Severity: "OK",
          MessageArgs: [t, imageUri],
        });
      this.engine.addSel(bmc, {
        severity: "OK",
        message: `Firmware updated: ${targets.map((t) => `${t} ${newVersions[t]}`).join(", ")}.`,
        messageId: `${SIM_REGISTRY}.FirmwareUpdated`,
        sensorType: "Version Change",
      });
    });
    return task;
  }

  json(t: SimTask): Record<string, unknown> {
    const path = `/redfish/v1/TaskService/Tasks/${t.id}`;
    return {
      "@odata.id": path,
      "@odata.type": "#Task.v1_7_3.Task",
      Id: t.id,
      Name: t.name,
      TaskState: t.state,
      TaskStatus: t.state === "Exception" ? "Critical" : "OK",
      PercentComplete: this.percent(t),
      StartTime: new Date(t.startedAt).toISOString(),
      ...(t.endTime ? { EndTime: t.endTime } : {}),
      TaskMonitor: `/redfish/v1/TaskService/TaskMonitors/${t.id}`,
      Messages: t.messages.map((m) => ({ "@odata.type": "#Message.v1_2_0.Message", ...m, MessageSeverity: m.Severity })),
      Payload: { TargetUri: "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", HttpOperation: "POST" },
    };
  }
}
