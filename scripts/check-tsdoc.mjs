#!/usr/bin/env node
/**
 * `npm run lint:docs`: every export of the public entries has TSDoc.
 *
 * Reads the package's entries (`src/index.ts`, `src/node/index.ts`, `src/browser/index.ts`,
 * `src/ky.ts`, `src/redis/index.ts`, `src/testing/index.ts`) with the TypeScript compiler API, follows every export
 * (`export *`, re-exports, `export type`) to the declaration it names, and fails when one has no
 * `/** … *\/` comment with text in it; an exported function or class also needs an `@example`.
 * The public members of exported interfaces, classes and object types (properties and methods a
 * caller reads or calls; not constructors, not `private` or `#private` ones) need a comment too.
 *
 *   node scripts/check-tsdoc.mjs           list what is undocumented; exit 1 if anything is
 *   node scripts/check-tsdoc.mjs --json    the same, as JSON
 *
 * Exit codes: 0 all documented, 1 something is undocumented, 2 the program could not be read.
 */
import ts from 'typescript';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The public entries, as package.json `exports` maps them (tsup.config.ts builds the same files). */
const ENTRIES = {
  'x402-autopay': 'src/index.ts',
  'x402-autopay/node': 'src/node/index.ts',
  'x402-autopay/browser': 'src/browser/index.ts',
  'x402-autopay/ky': 'src/ky.ts',
  'x402-autopay/redis': 'src/redis/index.ts',
  'x402-autopay/testing': 'src/testing/index.ts',
};

const json = process.argv.includes('--json');

const configPath = join(root, 'tsconfig.json');
const config = ts.readConfigFile(configPath, ts.sys.readFile);
if (config.error) fatal(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
const program = ts.createProgram({
  rootNames: Object.values(ENTRIES).map((file) => join(root, file)),
  options: { ...parsed.options, noEmit: true },
});
const checker = program.getTypeChecker();

/** `file:line name (kind)` → the entries that export it. */
const missing = new Map();
const seen = new Set();
let checked = 0;

for (const [entry, file] of Object.entries(ENTRIES)) {
  const source = program.getSourceFile(join(root, file));
  if (!source) fatal(`${file} is not part of the program`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (!moduleSymbol) fatal(`${file} has no exports`);
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    for (const declaration of symbol.declarations ?? []) {
      if (declaration.getSourceFile().isDeclarationFile) continue; // re-exported from a dependency
      checkDeclaration(declaration, exported.getName(), entry);
    }
  }
}

/** Checks one exported declaration and, for interfaces, classes and object types, its public members. */
function checkDeclaration(declaration, name, entry) {
  const key = `${declaration.getSourceFile().fileName}:${declaration.pos}`;
  const first = !seen.has(key);
  seen.add(key);
  if (first) checked++;
  note(declaration, name, entry, first ? problemOf(declaration) : undefined);
  for (const [member, memberName] of publicMembers(declaration)) {
    if (first) checked++;
    note(member, `${name}.${memberName}`, entry, first && !hasDoc(member) ? 'no TSDoc' : undefined);
  }
}

/** Records a problem of a declaration, or one more entry that exports one already recorded. */
function note(node, name, entry, problem) {
  const source = node.getSourceFile();
  const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
  const where = `${relative(root, source.fileName)}:${line + 1}`;
  const id = `${where} ${name}`;
  if (problem) missing.set(id, { where, name, kind: kindOf(node), problem, entries: new Set([entry]) });
  else missing.get(id)?.entries.add(entry);
}

/** What is missing on an exported declaration: any TSDoc, or (functions and classes) an `@example`. */
function problemOf(declaration) {
  if (!hasDoc(declaration)) return 'no TSDoc';
  const callable = ts.isFunctionDeclaration(declaration) || ts.isClassDeclaration(declaration);
  if (callable && !ts.getJSDocTags(declaration).some((tag) => tag.tagName.text === 'example')) return 'no @example';
  return undefined;
}

/** Whether a declaration has a `/** … *\/` comment with some text (a description or a tag). */
function hasDoc(node) {
  // A `const` is documented on its statement: `/** … *\/ export const x = …`.
  const target = ts.isVariableDeclaration(node) ? node.parent.parent : node;
  const docs = ts.getJSDocCommentsAndTags(target).filter(ts.isJSDoc);
  return docs.some((doc) => commentText(doc.comment).trim() !== '' || (doc.tags?.length ?? 0) > 0);
}

function commentText(comment) {
  if (comment === undefined) return '';
  if (typeof comment === 'string') return comment;
  return comment.map((part) => part.text ?? '').join('');
}

/** The members a caller of the public API reads or calls, with their names. */
function publicMembers(declaration) {
  let members;
  if (ts.isInterfaceDeclaration(declaration) || ts.isClassDeclaration(declaration)) members = declaration.members;
  else if (ts.isTypeAliasDeclaration(declaration) && ts.isTypeLiteralNode(declaration.type)) members = declaration.type.members;
  else return [];
  const out = [];
  for (const member of members) {
    if (ts.isConstructorDeclaration(member) || ts.isClassStaticBlockDeclaration(member) || ts.isIndexSignatureDeclaration(member)) continue;
    if (!member.name || ts.isPrivateIdentifier(member.name)) continue;
    const modifiers = ts.getCombinedModifierFlags(member);
    if (modifiers & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
    // `override` members (e.g. `name` of an Error subclass) are documented where they are declared first.
    if (modifiers & ts.ModifierFlags.Override) continue;
    out.push([member, member.name.getText()]);
  }
  return out;
}

function kindOf(node) {
  if (ts.isFunctionDeclaration(node)) return 'function';
  if (ts.isClassDeclaration(node)) return 'class';
  if (ts.isInterfaceDeclaration(node)) return 'interface';
  if (ts.isTypeAliasDeclaration(node)) return 'type';
  if (ts.isVariableDeclaration(node)) return 'const';
  if (ts.isEnumDeclaration(node)) return 'enum';
  if (ts.isMethodSignature(node) || ts.isMethodDeclaration(node)) return 'method';
  if (ts.isPropertySignature(node) || ts.isPropertyDeclaration(node)) return 'property';
  if (ts.isGetAccessor(node) || ts.isSetAccessor(node)) return 'accessor';
  return ts.SyntaxKind[node.kind];
}

function fatal(message) {
  console.error(`check-tsdoc: ${message}`);
  process.exit(2);
}

const problems = [...missing.values()].map((m) => ({ ...m, entries: [...m.entries] }));
if (json) {
  console.log(JSON.stringify({ checked, undocumented: problems }, null, 2));
} else if (problems.length === 0) {
  console.log(`lint:docs: all ${checked} exported declarations and public members of the ${Object.keys(ENTRIES).length} entries have TSDoc (functions and classes with an @example).`);
} else {
  console.error(`lint:docs: ${problems.length} of ${checked} exported declarations and public members lack TSDoc:`);
  for (const p of problems) console.error(`  ${p.where}  ${p.kind} ${p.name}: ${p.problem}  (${p.entries.join(', ')})`);
  console.error('Add a /** … */ comment that says what it is for; exported functions and classes also need an @example (starting with its imports).');
}
process.exit(problems.length === 0 ? 0 : 1);
