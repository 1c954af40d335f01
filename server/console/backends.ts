// Picks and builds the console backend for an enrolled node from its BMC settings:
//  - ipmi     → IPMI Serial-over-LAN (ipmitool in a pty)
//  - redfish  → the WebSocket in SerialConsole.WebSocket.ConsoleURI when the BMC offers one (asked through
//               the Redfish driver on every connect), else SSH to the port in SerialConsole.SSH
//               (OpenBMC-style console port), else a clear "no console offered" error.
import { Agent, request } from "undici";
import { BmcError, type BmcCredentials } from "@/server/drivers/bmc/types";
import { driverFor, endpointFor, type NodeBmc } from "@/server/workflows/bmc-access";
import { IpmiSolBackend } from "./ipmi-sol";
import { RedfishConsoleBackend } from "./redfish-ws";
import { SshConsoleBackend } from "./ssh";
import type { ConsoleBackend, ConsoleStream } from "./types";

export function backendForNode(node: NodeBmc): ConsoleBackend {
  const ep = endpointFor(node, { timeoutMs: 10_000 });
  if (node.bmcDriver === "ipmi") return new IpmiSolBackend(ep);
  return {
    async connect(): Promise<ConsoleStream> {
      const driver = driverFor(node);
      const uri = driver.consoleUri ? await driver.consoleUri() : null;
      if (uri) {
        return new RedfishConsoleBackend({ address: node.bmcAddress, credentials: ep.credentials, consoleUri: uri.url, verifyTls: node.bmcVerifyTls }).connect();
      }
      const ssh = await redfishSshConsole(node.bmcAddress, ep.credentials, node.bmcVerifyTls);
      if (ssh) return new SshConsoleBackend({ host: ssh.host, port: ssh.port, credentials: ep.credentials }).connect();
      throw new BmcError("unsupported", node.bmcAddress, `BMC ${node.bmcAddress} offers no serial console Anvil can open (neither a WebSocket nor an SSH console)`);
    },
  };
}

const agents = new Map<boolean, Agent>();

/** SerialConsole.SSH of the BMC's (first) system: ServiceRoot → Systems → member, as a client must follow them. */
export async function redfishSshConsole(base: string, cred: BmcCredentials, verifyTls: boolean): Promise<{ host: string; port: number } | null> {
  let dispatcher = agents.get(verifyTls);
  if (!dispatcher) {
    dispatcher = new Agent({ connect: { rejectUnauthorized: verifyTls } });
    agents.set(verifyTls, dispatcher);
  }
  const headers = { accept: "application/json", authorization: `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString("base64")}` };
  const get = async (path: string) => {
    const r = await request(new URL(path, base), { headers, dispatcher, signal: AbortSignal.timeout(10_000) });
    if (r.statusCode === 401 || r.statusCode === 403) {
      await r.body.dump();
      throw new BmcError("auth", base, `BMC ${base} refused the credentials for user ${cred.username}`);
    }
    if (r.statusCode >= 300) {
      await r.body.dump();
      throw new BmcError("bmc_error", base, `BMC ${base} answered HTTP ${r.statusCode} for ${path}`, { transient: r.statusCode >= 500 });
    }
    return (await r.body.json()) as Record<string, unknown>;
  };
  const root = await get("/redfish/v1/");
  const systemsLink = (root.Systems as { "@odata.id"?: string } | undefined)?.["@odata.id"];
  if (!systemsLink) return null;
  const members = ((await get(systemsLink)).Members as { "@odata.id": string }[] | undefined) ?? [];
  if (!members[0]) return null;
  const sys = await get(members[0]["@odata.id"]);
  const ssh = (sys.SerialConsole as { SSH?: { ServiceEnabled?: boolean; Port?: number } } | undefined)?.SSH;
  if (!ssh?.ServiceEnabled || !ssh.Port) return null;
  return { host: new URL(base).hostname.replace(/^\[|\]$/g, ""), port: ssh.Port };
}
