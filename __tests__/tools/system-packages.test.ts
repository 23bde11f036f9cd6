import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ensureSystemPackages, systemPackages } from '../../tools/system-packages';

describe('system packages', () => {
  it('lists every Debian package the tests rely on, each present after the bootstrap', () => {
    expect(systemPackages.map((p) => p.debian)).toEqual(expect.arrayContaining(['postgresql', 'prometheus', 'openssl', 'maven', 'openjdk-17-jdk-headless']));
    expect(systemPackages.filter((p) => !p.present()).map((p) => p.debian)).toEqual([]);
  });

  it('names each missing package, its use and the apt-get command when it cannot install them', async () => {
    // No apt-get on PATH: as on a machine where the bootstrap may not install anything.
    const emptyBin = fs.mkdtempSync(path.join(os.tmpdir(), 'no-apt-'));
    const saved = process.env.PATH;
    process.env.PATH = emptyBin;
    try {
      await expect(ensureSystemPackages([{ debian: 'kafka-platform-missing-tool', purpose: 'a check of this message', present: () => false }])).rejects.toThrow(
        'missing system packages:\n  kafka-platform-missing-tool: a check of this message\ninstall them with: sudo apt-get update && sudo apt-get install -y kafka-platform-missing-tool',
      );
    } finally {
      process.env.PATH = saved;
    }
  });
});
