import * as fs from 'fs';

/** One Dockerfile instruction, continuation lines joined. */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

/** A build stage: its FROM and the instructions until the next FROM. */
export interface Stage {
  readonly from: string;
  readonly name?: string;
  readonly instructions: Instruction[];
}

/** Minimal Dockerfile reader: comments, parser directives and `\` continuations. */
export function parseDockerfile(file: string): Stage[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const instructions: Instruction[] = [];
  let current: { text: string; line: number } | undefined;
  lines.forEach((raw, i) => {
    const trimmed = raw.trim();
    if (current === undefined && (trimmed === '' || trimmed.startsWith('#'))) return;
    if (current !== undefined && trimmed.startsWith('#')) return;
    const continued = trimmed.endsWith('\\');
    const part = continued ? trimmed.slice(0, -1) : trimmed;
    current = current ? { text: `${current.text} ${part}`, line: current.line } : { text: part, line: i + 1 };
    if (!continued) {
      const m = /^(\S+)\s*(.*)$/.exec(current.text)!;
      instructions.push({ keyword: m[1].toUpperCase(), args: m[2].trim(), line: current.line });
      current = undefined;
    }
  });
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!;
      stages.push({ from: m[1], name: m[2], instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push(ins);
    } else if (ins.keyword !== 'ARG') {
      throw new Error(`${file}:${ins.line}: ${ins.keyword} before the first FROM`);
    }
  }
  return stages;
}

/** ARG defaults declared before the first FROM (what `FROM ${NAME}` resolves to without --build-arg). */
export function globalArgs(file: string): Record<string, string | undefined> {
  const args: Record<string, string | undefined> = {};
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (/^FROM\s/i.test(line)) break;
    const m = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?$/i.exec(line);
    if (m) args[m[1]] = m[2];
  }
  return args;
}

/** Exec form: a JSON array of strings (no shell involved). */
export function execForm(args: string): string[] | undefined {
  try {
    const parsed = JSON.parse(args) as unknown;
    return Array.isArray(parsed) && parsed.every((a) => typeof a === 'string') ? (parsed as string[]) : undefined;
  } catch {
    return undefined;
  }
}
