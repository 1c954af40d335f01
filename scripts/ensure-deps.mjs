// Installs npm dependencies when they are missing or older than package.json / package-lock.json,
// so `npm run dev` and `npm test` work on a fresh checkout without a separate install step.
import { execFileSync } from "node:child_process";
import fs from "node:fs";

const marker = "node_modules/.package-lock.json";
const mtime = (f) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : 0);
const stale = !fs.existsSync(marker) || mtime("package.json") > mtime(marker) || mtime("package-lock.json") > mtime(marker);
if (stale) {
  console.log("Installing npm dependencies (npm install)…");
  execFileSync("npm", ["install", "--no-audit", "--no-fund"], { stdio: "inherit" });
  // npm may leave the marker untouched when nothing changed; touch it so we don't reinstall every time.
  if (fs.existsSync(marker)) fs.utimesSync(marker, new Date(), new Date());
}
