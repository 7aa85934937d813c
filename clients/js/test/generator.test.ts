import { mkdtempSync, readFileSync, copyFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execFileSync } from "node:child_process";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain JavaScript module without declarations
import { generate, inputType, schemaToType } from "../bin/igniter-gen.mjs";

const here = resolve(import.meta.dirname);
const root = resolve(here, "..");
const schemaFile = join(here, "fixtures", "schema.json");
let dir = "";

const usages = ["usage-ok.ts", "usage-missing-field.ts", "usage-wrong-field.ts", "usage-wrong-answer.ts"];
let diagnostics = new Map<string, string[]>();

/** tsc's diagnostics of the usage fixtures (copied next to the generated api.ts), by file name. */
function typeCheck(): Map<string, string[]> {
  for (const file of usages) copyFileSync(join(here, "fixtures", file), join(dir, file));
  // One program for all fixtures: the compiler's start-up is most of the time.
  const program = ts.createProgram(
    usages.map((file) => join(dir, file)),
    {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2020,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
      skipLibCheck: true,
      paths: { "@client": [join(root, "src", "index.ts")] },
    },
  );
  const out = new Map<string, string[]>(usages.map((file) => [file, []]));
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const file = d.file ? d.file.fileName.replace(/^.*\//, "") : "";
    const list = out.get(file) ?? [];
    list.push(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    out.set(file, list);
  }
  return out;
}

function typeErrors(file: string): string[] {
  return diagnostics.get(file) ?? [];
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "igniter-gen-"));
  // The command line as the build runs it.
  execFileSync(process.execPath, [join(root, "bin", "igniter-gen.mjs"), "--schema", schemaFile, "--out", join(dir, "api.ts"), "--import", "@client"]);
  diagnostics = typeCheck();
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("schemaToType", () => {
  it("turns igniter-cpp's schemas into TypeScript types", () => {
    expect(schemaToType({ anyOf: [{ type: "integer" }, { type: "null" }] })).toBe("number | null");
    expect(schemaToType({ type: "string", enum: ["a", "b"] })).toBe('"a" | "b"');
    expect(schemaToType({ type: "array", items: { anyOf: [{ type: "string" }, { type: "null" }] } })).toBe(
      "Array<string | null>",
    );
    expect(schemaToType({})).toBe("unknown");
    expect(schemaToType({ type: "object", additionalProperties: { type: "boolean" } })).toBe(
      "{\n  [key: string]: boolean;\n}",
    );
    expect(schemaToType({ type: "object", properties: { "a-b": { type: "string" } }, required: [] })).toBe(
      '{\n  "a-b"?: string;\n}',
    );
  });

  it("makes the input optional only when nothing in it is required", () => {
    expect(inputType({ body: null, query: null, params: null })).toBe("undefined");
    expect(inputType({ query: { type: "object", properties: { a: { type: "string" } }, required: [] } })).toMatch(
      /\| undefined$/,
    );
    expect(inputType({ params: { type: "object", properties: { id: { type: "integer" } }, required: ["id"] } })).not.toMatch(
      /undefined/,
    );
  });
});

describe("generated module", () => {
  it("describes every action with its key, method and path, and types answers from a response schema", () => {
    const text = readFileSync(join(dir, "api.ts"), "utf8");
    expect(text).toContain('export const basePath = "/api/v1";');
    expect(text).toContain('{"key":"posts.getById","type":"query","method":"GET","path":"/posts/:id"}');
    expect(text).toContain("mutationAction<PostsCreateInput");
    expect(text).toContain("streamAction<NotificationsStreamInput");
    expect(text).toMatch(/"posts\.remove": \{\n\s+deleted: boolean;/);
    expect(text).toMatch(/"posts\.list": \{\n\s+posts: Array<\{\n\s+id: number;\n\s+title: string;/);
    // `response: null` says nothing; a stream's `response` (its subscribe answer) does not type its messages.
    expect(text).toContain('"posts.getById": unknown;');
    expect(text).toContain('"notifications.stream": unknown;');
  });

  it("accepts the envelope of GET /__igniter/schema or its data alone", () => {
    const schema = JSON.parse(readFileSync(schemaFile, "utf8"));
    expect(generate(schema.data, { importFrom: "@client" })).toBe(generate(schema, { importFrom: "@client" }));
  });

  it("type-checks correct calls, including answer types named by the caller", () => {
    expect(typeErrors("usage-ok.ts")).toEqual([]);
  });

  it("fails tsc on a missing body field, and on a missing input where one is required", () => {
    const errors = typeErrors("usage-missing-field.ts");
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/content/);
    expect(errors[1]).toMatch(/Expected 1 argument/);
  });

  it("fails tsc on a misspelt field, a value outside an enum and a wrong parameter type", () => {
    const errors = typeErrors("usage-wrong-field.ts");
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/titel/);
    expect(errors[1]).toMatch(/archived/);
    expect(errors[2]).toMatch(/string.*number/s);
  });

  it("fails tsc on a field the answer's response schema lacks, and types no stream message from it", () => {
    const errors = typeErrors("usage-wrong-answer.ts");
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/nope/);
    expect(errors[1]).toMatch(/nope/);
    expect(errors[2]).toMatch(/unknown/);
  });

  it("rejects a document that is not an app schema", () => {
    expect(() => generate({ hello: 1 })).toThrow(/controllers/);
  });
});

