import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

// Starts the release `precedent` binary on a fresh data directory (its own managed PostgreSQL,
// seeded with the demo), writes synthetic upload fixtures, and waits until the server answers.
export default async function globalSetup() {
  const root = path.resolve(__dirname, '..');
  const bin = process.env.PRECEDENT_BIN;
  if (!bin || !fs.existsSync(bin)) throw new Error(`PRECEDENT_BIN must name the built server binary (got ${bin})`);
  const port = Number(process.env.PRECEDENT_E2E_PORT ?? 3117);
  const dataDir = process.env.PRECEDENT_E2E_DATA ?? path.join(root, 'target', 'e2e-data');
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });

  const fixtures = path.join(__dirname, 'fixtures');
  fs.rmSync(fixtures, { recursive: true, force: true });
  execFileSync(bin, ['synth', '--out', fixtures, '--cases', '2', '--seed', '7'], { stdio: 'inherit' });

  const env = {
    ...process.env,
    PRECEDENT_ADDR: `127.0.0.1:${port}`,
    PRECEDENT_DATA_DIR: dataDir,
    PRECEDENT_MODELS_DIR: path.join(root, 'models'),
    // The demo password is random unless configured: the tests name theirs (helpers.ts).
    PRECEDENT_DEMO_PASSWORD: process.env.PRECEDENT_DEMO_PASSWORD ?? 'precedent-demo-2026',
  };
  delete env.DATABASE_URL;
  const log = fs.openSync(path.join(dataDir, 'server.log'), 'w');
  const child = spawn(bin, ['serve', '--demo', '12'], { cwd: root, env, stdio: ['ignore', log, log], detached: false });
  fs.writeFileSync(path.join(dataDir, 'server.pid'), String(child.pid));

  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`server exited early:\n${fs.readFileSync(path.join(dataDir, 'server.log'), 'utf8')}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error('server did not become ready in 120 s');
    await new Promise((r) => setTimeout(r, 500));
  }
}
