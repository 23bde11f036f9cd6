import { spawnSync } from 'child_process';
import * as path from 'path';
import { PROJECT_ROOT } from '../../tools/paths';
import { toolchainEnv } from '../support/toolchain';

describe('npm start', () => {
  it('runs the whole local system and ends with nothing lost', () => {
    // The cluster is the test run's; start reuses it and leaves it running.
    const r = spawnSync(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['tools/start.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...toolchainEnv(), CI: 'true', START_MESSAGES: '2000' },
      encoding: 'utf8',
      timeout: 300000,
    });
    expect(r.stderr).not.toMatch(/npm start:/);
    expect(r.stdout).toMatch(/Apply complete!|No changes\./);
    expect(r.stdout).toMatch(/received start-[a-z0-9]+-\d+ from posts\[\d+\]@\d+/);
    expect(r.stdout).toContain('summary: sent 2000, received 2000, lost 0');
    // One message's trace, as the local trace backend's query API returned it: the producer's span, then the consumer's.
    expect(r.stdout).toMatch(/trace of start-[a-z0-9]+-\d+: [0-9a-f]{32}\n {2}path: producer "send posts" [\d.]+ ms \(queued and acknowledged\) -> consumer "process posts" [\d.]+ ms, started [\d.]+ ms after the send began/);
    expect(r.stdout).toMatch(/ {2}producer send posts \[producer\] span [0-9a-f]{16} \+0\.0 ms.*\n {4}consumer process posts \[consumer\] span [0-9a-f]{16} \+/);
    expect(r.status).toBe(0);
  }, 320000);
});
