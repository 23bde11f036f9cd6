import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

/** One string in the `versions` object of config/versions.ts, with where its text sits in the file. */
export interface PinLeaf {
  /** Dotted path, e.g. `charts.strimzi.version`. */
  readonly path: string;
  readonly value: string;
  /** Offsets of the string's content (inside the quotes) in the file. */
  readonly start: number;
  readonly end: number;
}

export const VERSIONS_FILE = path.resolve(__dirname, '../../config/versions.ts');

function unwrap(node: ts.Expression): ts.Expression {
  return ts.isAsExpression(node) || ts.isSatisfiesExpression(node) || ts.isParenthesizedExpression(node) ? unwrap(node.expression) : node;
}

/** Every string leaf of `versions`, read from the source so each has its position. */
export function versionLeaves(file = VERSIONS_FILE): PinLeaf[] {
  const text = fs.readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  let root: ts.ObjectLiteralExpression | undefined;
  source.forEachChild(function find(node) {
    if (ts.isVariableDeclaration(node) && node.name.getText() === 'versions' && node.initializer) {
      const init = unwrap(node.initializer);
      if (ts.isObjectLiteralExpression(init)) root = init;
    }
    node.forEachChild(find);
  });
  if (!root) throw new Error(`${file} has no \`export const versions = { ... }\``);
  const leaves: PinLeaf[] = [];
  const walk = (obj: ts.ObjectLiteralExpression, prefix: string) => {
    for (const prop of obj.properties) {
      if (!ts.isPropertyAssignment(prop)) throw new Error(`${file}: ${prop.getText()} is not a plain property`);
      const name = ts.isStringLiteral(prop.name) ? prop.name.text : prop.name.getText();
      const key = prefix ? `${prefix}.${name}` : name;
      const value = unwrap(prop.initializer);
      if (ts.isObjectLiteralExpression(value)) walk(value, key);
      else if (ts.isStringLiteral(value)) leaves.push({ path: key, value: value.text, start: value.getStart() + 1, end: value.getEnd() - 1 });
      else throw new Error(`${file}: ${key} is neither an object nor a string`);
    }
  };
  walk(root, '');
  return leaves;
}
