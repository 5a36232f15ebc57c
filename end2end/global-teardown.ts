import * as fs from 'node:fs';
import * as path from 'node:path';

// Stops the server gracefully (it stops its managed PostgreSQL on the way out).
export default async function globalTeardown() {
  const root = path.resolve(__dirname, '..');
  const dataDir = process.env.PRECEDENT_E2E_DATA ?? path.join(root, 'target', 'e2e-data');
  const pidFile = path.join(dataDir, 'server.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  process.kill(pid, 'SIGKILL');
}
