// Picks and builds the console backend for an enrolled node from its BMC settings:
//  - ipmi     → IPMI Serial-over-LAN (ipmitool in a pty)
//  - redfish  → what the BMC advertises, asked through the Redfish driver on every connect (consoleOptions():
//               the system's SerialConsole, then the manager's SerialConsole / CommandShell), tried in order:
//               the WebSocket (SerialConsole.WebSocket.ConsoleURI), SSH (OpenBMC-style console port), IPMI SOL —
//               all with the node's BMC credentials. A BMC that advertises none gets one final "This BMC offers no
//               serial console (…)" (BmcError "unsupported", which the console session does not retry).
import { BmcError, type BmcConsoleOption, isBmcError } from "@/server/drivers/bmc/types";
import { driverFor, endpointFor, type NodeBmc } from "@/server/workflows/bmc-access";
import { IpmiSolBackend } from "./ipmi-sol";
import { RedfishConsoleBackend } from "./redfish-ws";
import { SshConsoleBackend } from "./ssh";
import type { ConsoleBackend, ConsoleStream } from "./types";

export function backendForNode(node: NodeBmc): ConsoleBackend {
  const ep = endpointFor(node, { timeoutMs: 10_000 });
  if (node.bmcDriver === "ipmi") return new IpmiSolBackend(ep);
  const open = (o: BmcConsoleOption): Promise<ConsoleStream> => {
    if (o.kind === "websocket")
      return new RedfishConsoleBackend({ address: node.bmcAddress, credentials: ep.credentials, consoleUri: o.url, verifyTls: node.bmcVerifyTls }).connect();
    if (o.kind === "ssh") return new SshConsoleBackend({ host: o.host, port: o.port, credentials: ep.credentials }).connect();
    return new IpmiSolBackend({ address: `${o.host.includes(":") ? `[${o.host}]` : o.host}:${o.port}`, credentials: ep.credentials }).connect();
  };
  return {
    async connect(): Promise<ConsoleStream> {
      const driver = driverFor(node);
      const found = driver.consoleOptions
        ? await driver.consoleOptions()
        : { options: [] as BmcConsoleOption[], none: `This BMC offers no serial console (its driver cannot tell where one is)` };
      if (!found.options.length) throw new BmcError("unsupported", node.bmcAddress, found.none ?? "This BMC offers no serial console", { transient: false });
      // In order; a failure moves on to the next way in. If none opens, a transient failure (retry may fix it)
      // wins over the first way's final one.
      const errors: unknown[] = [];
      for (const o of found.options) {
        try {
          return await open(o);
        } catch (e) {
          errors.push(e);
        }
      }
      throw errors.find((e) => isBmcError(e) && e.transient) ?? errors[0];
    },
  };
}
