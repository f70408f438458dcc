/**
 * The `.d.ts` files of the published SDK, from tsc's declaration emit of src/client. The SDK's wire
 * types are inferred from the coordinator's zod schemas (`z.output<typeof GroupDescription>`), which
 * would make every user install zod for types alone; here each such alias is written out as the plain
 * object type the checker resolved it to, the schema imports are dropped, and only the declaration
 * files reachable from the entry are kept. The result is checked on its own (no skipLibCheck, no
 * node_modules) so a type that still needs the repository fails the build, not a user's editor.
 */

import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

/** Modules whose types must not reach the package: the schemas and the zod they are written in. */
const SCHEMA_MODULE = /^(@hono\/zod-openapi|zod)$|\/api\/[^/]+\.ts$/;
/** An alias computed from a schema type: expanded to its structure. */
const SCHEMA_ALIAS = /\bz\.(input|output|infer)\s*</;

const BASE_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2023,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
  types: [],
  strict: true,
  exactOptionalPropertyTypes: false,
};

const NODE_FLAGS =
  ts.NodeBuilderFlags.NoTruncation | ts.NodeBuilderFlags.InTypeAlias | ts.NodeBuilderFlags.IgnoreErrors;

/** `./x.ts` → `./x.js`, which TypeScript resolves to `./x.d.ts` in any moduleResolution. */
const toJsSpecifiers = (text: string): string =>
  text.replace(/((?:from\s+|import\()["'])(\.{1,2}\/[^"']+)\.ts(["'])/g, "$1$2.js$3");

/** The checker builds object types for one line; a user reading them in an editor wants one member a line. */
function multiline(node: ts.Node): void {
  if (ts.isTypeLiteralNode(node)) ts.setEmitFlags(node, ts.EmitFlags.None);
  ts.forEachChild(node, multiline);
}

function flattenSchemaAliases(checker: ts.TypeChecker): ts.TransformerFactory<ts.SourceFile | ts.Bundle> {
  return (context) => {
    const visit = (node: ts.Node): ts.Node | undefined => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        return SCHEMA_MODULE.test(node.moduleSpecifier.text) ? undefined : node;
      }
      const original = ts.getOriginalNode(node);
      if (ts.isTypeAliasDeclaration(node) && ts.isTypeAliasDeclaration(original)) {
        if (!SCHEMA_ALIAS.test(original.type.getText())) return node;
        const type = checker.getTypeAtLocation(original.name);
        const expanded = checker.typeToTypeNode(type, original, NODE_FLAGS);
        if (!expanded) throw new Error(`cannot expand ${original.name.text}`);
        multiline(expanded);
        return context.factory.updateTypeAliasDeclaration(
          node,
          node.modifiers,
          node.name,
          node.typeParameters,
          expanded,
        );
      }
      return node;
    };
    return (file) =>
      ts.isSourceFile(file) ? (ts.visitEachChild(file, visit, context) as ts.SourceFile) : file;
  };
}

const relativeImports = (text: string): string[] =>
  [...text.matchAll(/(?:from\s+|import\()["']([^"']+)["']/g)].map((m) => m[1]!);

function problems(diagnostics: readonly ts.Diagnostic[]): string {
  return ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => process.cwd(),
    getNewLine: () => "\n",
  });
}

/**
 * Declarations of `entry` (a file under `srcRoot`), keyed by path relative to `srcRoot`
 * (`client/index.d.ts`, `core/errors.d.ts`, …): only what the entry's declarations reach.
 */
export function packageDeclarations(entry: string, srcRoot: string): Map<string, string> {
  const program = ts.createProgram([entry], {
    ...BASE_OPTIONS,
    declaration: true,
    emitDeclarationOnly: true,
    allowImportingTsExtensions: true,
    verbatimModuleSyntax: true,
    skipLibCheck: true,
    rootDir: srcRoot,
    outDir: "/declarations",
  });
  const emitted = new Map<string, string>();
  const result = program.emit(
    undefined,
    (name, text) => emitted.set(relative("/declarations", name), toJsSpecifiers(text)),
    undefined,
    true,
    { afterDeclarations: [flattenSchemaAliases(program.getTypeChecker())] },
  );
  if (result.diagnostics.length > 0) throw new Error(problems(result.diagnostics));

  const start = relative(srcRoot, entry).replace(/\.ts$/, ".d.ts");
  const kept = new Map<string, string>();
  const pending = [start];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (kept.has(name)) continue;
    const text = emitted.get(name);
    if (text === undefined) throw new Error(`no declarations for ${name}`);
    kept.set(name, text);
    for (const specifier of relativeImports(text)) {
      if (!specifier.startsWith(".")) throw new Error(`${name} still imports "${specifier}"`);
      pending.push(join(dirname(name), specifier).replace(/\.js$/, ".d.ts"));
    }
  }
  return kept;
}

/** Type-checks written declaration files alone: strict, with their own lib check, no node_modules. */
export function checkDeclarations(files: string[]): void {
  const program = ts.createProgram(
    files.map((f) => resolve(f)),
    { ...BASE_OPTIONS, noEmit: true, skipLibCheck: false, typeRoots: [] },
  );
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) throw new Error(problems(diagnostics));
}
