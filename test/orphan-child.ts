// Helper process for db/embedded.test.ts: starts an embedded Postgres in the given folder, prints READY,
// and waits to be SIGKILLed (which leaves the postmaster running, as a crashed Anvil would).
import { startEmbeddedPostgres } from "../db/embedded";

const dir = process.argv[2]!;
const db = await startEmbeddedPostgres({ dataDir: dir, database: "anvil" });
console.log(`READY ${db.url}`);
setInterval(() => {}, 1000);
